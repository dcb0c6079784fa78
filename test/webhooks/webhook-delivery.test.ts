// Events from the outbox reach the endpoints of their account, signed, at least once, retried with
// backoff: a real HTTP receiver, the real database, the dispatcher driven pass by pass on a test clock.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from "vitest";
import { pino } from "pino";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";
import { startReceiver, type WebhookReceiver } from "./webhook-receiver.ts";
import { createAccount } from "../../src/accounts/accounts.ts";
import { createWebhookEndpoint } from "../../src/webhooks/webhook-endpoints.ts";
import { WebhookDispatcher } from "../../src/webhooks/webhook-dispatcher.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, verifySignature } from "../../src/webhooks/webhook-signature.ts";
import { MAX_ATTEMPTS } from "../../src/webhooks/retry-backoff.ts";
import { claimDueDeliveries } from "../../src/webhooks/due-deliveries.ts";
import { enqueueDeliveries } from "../../src/webhooks/enqueue-deliveries.ts";
import { createLogger } from "../../src/log/logger.ts";
import { BackgroundWork } from "../../src/scheduler/background-work.ts";
import { PullScheduler } from "../../src/scheduler/pull-scheduler.ts";

const SECRET = "whsec-test-0123456789abcdef";
const HOUR = 3_600_000;

let db: TestDatabase;
let receiver: WebhookReceiver;
let clock: number;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  db = await openTestDatabase();
});
beforeEach(async () => {
  await db.reset();
  receiver = await startReceiver();
  clock = Date.UTC(2026, 10, 23, 12, 0, 0);
  env = { IDSYNC_WEBHOOK_ACME: SECRET };
});
afterEach(() => receiver.close());
afterAll(() => db.close());

const dispatcher = () => new WebhookDispatcher({ db: db.knex, log: pino({ level: "silent" }), env, now: () => clock });
const account = async (slug: string) => (await createAccount(db.knex, { slug, domains: [] }, "test")).id;
const endpoint = (accountId: string, options: { eventTypes?: string[]; secretEnv?: string } = {}) =>
  createWebhookEndpoint(db.knex, accountId, { url: receiver.url, secretEnv: options.secretEnv ?? "IDSYNC_WEBHOOK_ACME", eventTypes: options.eventTypes ?? null }, "test");
const emit = async (accountId: string, type = "member.added", payload: object = { user: "dev@acme.example" }): Promise<string> =>
  (await db.knex.raw(`insert into events (account_id, type, payload) values (?, ?, ?::jsonb) returning id::text as id`, [accountId, type, JSON.stringify(payload)])).rows[0].id;
const deliveries = async () => (await db.knex.raw(
  `select event_id::text as event_id, status, attempts, last_status, last_error from webhook_deliveries order by event_id`)).rows;

test("an event arrives once, signed over its timestamp and body, with its id as the idempotency key", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const eventId = await emit(acme, "member.added", { user: "dev@acme.example" });
  const webhooks = dispatcher();
  expect(await webhooks.tick()).toBe(1);
  expect(await webhooks.tick()).toBe(0);
  clock += 24 * HOUR;
  expect(await webhooks.tick()).toBe(0);

  expect(receiver.received).toHaveLength(1);
  const [request] = receiver.received;
  expect(request!.headers[EVENT_ID_HEADER.toLowerCase()]).toBe(eventId);
  expect(request!.headers[EVENT_TYPE_HEADER.toLowerCase()]).toBe("member.added");
  const signature = request!.headers["idsync-signature"] as string;
  expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  const sentAt = Math.floor((clock - 24 * HOUR) / 1000);
  expect(signature.startsWith(`t=${sentAt},`)).toBe(true);
  expect(verifySignature(SECRET, signature, request!.body, sentAt)).toBe(true);
  expect(verifySignature("another-secret-0123456789", signature, request!.body, sentAt)).toBe(false);
  expect(verifySignature(SECRET, signature, request!.body.replace("dev@", "eve@"), sentAt)).toBe(false);
  expect(JSON.parse(request!.body)).toMatchObject({ id: eventId, type: "member.added", accountId: acme, data: { user: "dev@acme.example" } });
  expect(await deliveries()).toEqual([{ event_id: eventId, status: "delivered", attempts: 1, last_status: 200, last_error: null }]);
});

test("a receiver answering 500 twice then 200 gets three attempts of the same signed event, and it ends delivered", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const eventId = await emit(acme);
  receiver.answer(500, 500);
  const webhooks = dispatcher();
  await webhooks.tick();
  expect(await deliveries()).toEqual([{ event_id: eventId, status: "pending", attempts: 1, last_status: 500, last_error: "the endpoint answered HTTP 500" }]);
  expect(await webhooks.tick()).toBe(0); // not due yet
  clock += HOUR;
  await webhooks.tick();
  clock += HOUR;
  await webhooks.tick();
  clock += HOUR;
  expect(await webhooks.tick()).toBe(0);

  expect(receiver.received).toHaveLength(3);
  expect(new Set(receiver.received.map((r) => r.headers["idsync-event-id"]))).toEqual(new Set([eventId]));
  expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
  for (const r of receiver.received) expect(verifySignature(SECRET, r.headers["idsync-signature"] as string, r.body, Math.floor(clock / 1000), 4 * 3600)).toBe(true);
  expect(await deliveries()).toEqual([{ event_id: eventId, status: "delivered", attempts: 3, last_status: 200, last_error: null }]);
});

test("Retry-After on a 429 decides when the next attempt is due", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  await emit(acme);
  receiver.answer({ status: 429, headers: { "Retry-After": "600" } });
  const webhooks = dispatcher();
  await webhooks.tick();
  const [row] = (await db.knex.raw(`select next_attempt_at from webhook_deliveries`)).rows;
  expect(new Date(row.next_attempt_at).getTime()).toBe(clock + 600_000);
  clock += 599_000;
  expect(await webhooks.tick()).toBe(0);
  clock += 1_000;
  expect(await webhooks.tick()).toBe(1);
  expect((await deliveries())[0]).toMatchObject({ status: "delivered", attempts: 2 });
});

test(`a receiver that never accepts is given up after ${MAX_ATTEMPTS} attempts`, async () => {
  const acme = await account("acme");
  await endpoint(acme);
  await emit(acme);
  receiver.answer(...Array.from({ length: MAX_ATTEMPTS + 5 }, () => 503));
  const webhooks = dispatcher();
  for (let i = 0; i < MAX_ATTEMPTS + 3; i++) {
    await webhooks.tick();
    clock += 2 * HOUR;
  }
  expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
  expect((await deliveries())[0]).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, last_status: 503 });
});

test("a missing secret sends nothing and leaves the delivery pending with the reason; once set, it is delivered signed", async () => {
  const acme = await account("acme");
  await endpoint(acme, { secretEnv: "IDSYNC_WEBHOOK_UNSET" });
  const eventId = await emit(acme);
  const webhooks = dispatcher();
  await webhooks.tick();
  expect(receiver.received).toHaveLength(0);
  const [row] = await deliveries();
  expect(row).toMatchObject({ event_id: eventId, status: "pending", attempts: 1, last_status: null });
  expect(row.last_error).toMatch(/IDSYNC_WEBHOOK_UNSET is not set; nothing was sent/);

  env.IDSYNC_WEBHOOK_UNSET = "a-secret-set-later-0123456789";
  clock += HOUR;
  await webhooks.tick();
  expect(receiver.received).toHaveLength(1);
  expect(verifySignature("a-secret-set-later-0123456789", receiver.received[0]!.headers["idsync-signature"] as string, receiver.received[0]!.body, Math.floor(clock / 1000))).toBe(true);
});

test("events of another account are never sent to this account's endpoint", async () => {
  const acme = await account("acme");
  const other = await account("other");
  await endpoint(acme);
  await emit(other, "member.added", { user: "someone@other.example" });
  const mine = await emit(acme);
  await emit(other, "member.removed");
  const webhooks = dispatcher();
  await webhooks.tick();
  await webhooks.tick();
  expect(receiver.received.map((r) => r.headers["idsync-event-id"])).toEqual([mine]);
  expect(receiver.received.some((r) => r.body.includes("other.example"))).toBe(false);
  expect((await deliveries()).map((d: { event_id: string }) => d.event_id)).toEqual([mine]);
});

test("a new endpoint does not replay the account's earlier events", async () => {
  const acme = await account("acme");
  await emit(acme, "member.added");
  await emit(acme, "member.removed");
  await endpoint(acme);
  const webhooks = dispatcher();
  expect(await webhooks.tick()).toBe(0);
  const later = await emit(acme, "member.suspended");
  expect(await webhooks.tick()).toBe(1);
  expect(receiver.received.map((r) => r.headers["idsync-event-id"])).toEqual([later]);
});

test("an endpoint gets only the event types it asked for, and its cursor moves past the others", async () => {
  const acme = await account("acme");
  const created = await endpoint(acme, { eventTypes: ["member.removed"] });
  await emit(acme, "member.added");
  const removed = await emit(acme, "member.removed");
  const skipped = await emit(acme, "member.added");
  await dispatcher().tick();
  expect(receiver.received.map((r) => r.headers["idsync-event-type"])).toEqual(["member.removed"]);
  expect((await deliveries()).map((d: { event_id: string }) => d.event_id)).toEqual([removed]);
  const [{ last_event_id: cursor }] = (await db.knex.raw(`select last_event_id::text from webhook_endpoints where id = ?`, [created.id])).rows;
  expect(cursor).toBe(skipped);
});

test("two endpoints of one account each get the event once; a disabled endpoint gets nothing", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const second = await endpoint(acme);
  await db.knex.raw(`update webhook_endpoints set status = 'disabled' where id = ?`, [second.id]);
  const third = await createWebhookEndpoint(db.knex, acme, { url: `${receiver.url}/third`, secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: null }, "test");
  const eventId = await emit(acme);
  const webhooks = dispatcher();
  await Promise.all([webhooks.tick(), dispatcher().tick()]);
  await webhooks.tick();
  expect(receiver.received).toHaveLength(2);
  expect(receiver.received.every((r) => r.headers["idsync-event-id"] === eventId)).toBe(true);
  const { rows } = await db.knex.raw(`select endpoint_id, status from webhook_deliveries order by endpoint_id`);
  expect(rows.map((r: { endpoint_id: string }) => r.endpoint_id).sort()).not.toContain(second.id);
  expect(rows.map((r: { endpoint_id: string }) => r.endpoint_id)).toContain(third.id);
});

test("neither the secret nor a signature ever reaches the log", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", { write: (line: string) => void lines.push(line) });
  const acme = await account("acme");
  await endpoint(acme);
  await endpoint(acme, { secretEnv: "IDSYNC_WEBHOOK_UNSET" });
  await emit(acme);
  receiver.answer(500);
  const webhooks = new WebhookDispatcher({ db: db.knex, log, env, now: () => clock });
  await webhooks.tick();
  clock += HOUR;
  await webhooks.tick();
  expect(receiver.received).toHaveLength(2);
  expect(lines.length).toBeGreaterThanOrEqual(3);
  const logged = lines.join("\n");
  expect(logged).not.toContain(SECRET);
  for (const r of receiver.received) expect(logged).not.toContain((r.headers["idsync-signature"] as string).split("v1=")[1]);
});

test("a receiver that does not answer in time, or cannot be reached, leaves the delivery pending with the reason", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const closed = await startReceiver();
  await closed.close();
  const down = await createWebhookEndpoint(db.knex, acme, { url: closed.url, secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: null }, "test");
  await emit(acme);
  receiver.answer("hang");
  await new WebhookDispatcher({ db: db.knex, log: pino({ level: "silent" }), env, now: () => clock, timeoutMs: 200 }).tick();
  const { rows } = await db.knex.raw(`select endpoint_id, status, attempts, last_status, last_error from webhook_deliveries`);
  expect(rows).toHaveLength(2);
  for (const row of rows) expect(row).toMatchObject({ status: "pending", attempts: 1, last_status: null });
  expect(rows.find((r: { endpoint_id: string }) => r.endpoint_id === down.id).last_error).toMatch(/^request failed: .*ECONNREFUSED/);
  expect(rows.find((r: { endpoint_id: string }) => r.endpoint_id !== down.id).last_error).toBe("no response within 200 ms");
});

test("a delivery claimed by a sender that died is sent again once its lease ends (at least once)", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const eventId = await emit(acme);
  const webhooks = dispatcher();
  expect(await webhooks.tick()).toBe(1);
  expect(receiver.received).toHaveLength(1);
  const next = await emit(acme);
  await enqueueDeliveries(db.knex, clock);
  // a replica claims it and dies before answering
  expect((await claimDueDeliveries(db.knex, clock, 70_000, 10)).map((d) => d.event_id)).toEqual([next]);
  expect(await webhooks.tick()).toBe(0);
  clock += 70_000;
  expect(await webhooks.tick()).toBe(1);
  expect(receiver.received.map((r) => r.headers["idsync-event-id"])).toEqual([eventId, next]);
});

test("in serve, an event wakes the webhook job by NOTIFY and the queue delivers it; stopped, nothing more is sent", async () => {
  const acme = await account("acme");
  await endpoint(acme);
  const log = pino({ level: "silent" });
  const background = new BackgroundWork({
    database: db, log, pulls: new PullScheduler({ db: db.knex, log }), replica: "r1", fullReconcileSchedule: "0 0 1 1 *",
    concurrency: 1, queueSchema: db.queueSchema, webhooks: new WebhookDispatcher({ db: db.knex, log, env }),
  });
  await background.start();
  let eventId: string;
  try {
    eventId = await emit(acme);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 10_000, interval: 20 });
  } finally {
    await background.stop();
  }
  await emit(acme);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(receiver.received.map((r) => r.headers["idsync-event-id"])).toEqual([eventId]);
  expect((await deliveries()).map((d: { status: string }) => d.status)).toEqual(["delivered"]);
});
