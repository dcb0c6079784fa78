// The admin API for webhooks on a bare express app: create, list with delivery counts, review
// deliveries, disable; bad input is a 400 and stores nothing; every change is audited.
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";
import { createAccount } from "../../src/accounts/accounts.ts";
import { webhookRoutes } from "../../src/http/admin/webhook-routes.ts";
import { problemStatus, sendProblem } from "../../src/http/problem.ts";
import { WebhookDispatcher } from "../../src/webhooks/webhook-dispatcher.ts";

let db: TestDatabase;
let server: http.Server;
let base: string;
beforeAll(async () => {
  db = await openTestDatabase();
  const app = express();
  app.use(express.json());
  app.use(webhookRoutes(db.knex, () => "operator:test"));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = problemStatus(error);
    if (known) return sendProblem(res, known.status, known.title, (error as Error).message);
    sendProblem(res, 500, "Internal Server Error", String(error));
  });
  server = http.createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => db.reset());
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await db.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as the test reads it
  return { status: response.status, body: (await response.json()) as any };
}
const count = async (sql: string, bindings: unknown[] = []) => (await db.knex.raw(`select count(*)::int as n from ${sql}`, bindings as never[])).rows[0].n;

test("an operator creates a webhook, sees it listed with its delivery counts, reviews its deliveries and disables it, all audited", async () => {
  const acme = await createAccount(db.knex, { slug: "acme", domains: [] }, "test");
  await createAccount(db.knex, { slug: "other", domains: [] }, "test");
  const created = await call("POST", "/accounts/acme/webhooks", { url: "https://hooks.acme.example/idsync", secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: ["member.added"] });
  expect(created.status).toBe(201);
  expect(created.body.webhook).toMatchObject({ account_id: acme.id, url: "https://hooks.acme.example/idsync", secret_env: "IDSYNC_WEBHOOK_ACME", event_types: ["member.added"], status: "active" });
  const id = created.body.webhook.id;

  // one event delivered, one still failing
  const events = (await db.knex.raw(`insert into events (account_id, type, payload) values (?, 'member.added', '{}'), (?, 'member.added', '{}') returning id`, [acme.id, acme.id])).rows;
  let calls = 0;
  const fetchStub = (async () => new Response(null, { status: ++calls === 1 ? 204 : 502 })) as typeof fetch;
  await new WebhookDispatcher({ db: db.knex, log: pino({ level: "silent" }), env: { IDSYNC_WEBHOOK_ACME: "0123456789abcdef0123" }, fetch: fetchStub, concurrency: 1 }).tick();
  expect(events).toHaveLength(2);

  const listed = await call("GET", "/accounts/acme/webhooks");
  expect(listed.status).toBe(200);
  expect(listed.body.webhooks).toHaveLength(1);
  expect(listed.body.webhooks[0]).toMatchObject({ id, deliveries: { pending: 1, delivered: 1, failed: 0 } });
  expect((await call("GET", "/accounts/other/webhooks")).body).toEqual({ webhooks: [] });

  const all = await call("GET", `/webhooks/${id}/deliveries`);
  expect(all.body.deliveries).toHaveLength(2);
  expect(all.body.deliveries[0]).toMatchObject({ event_type: "member.added", status: "pending", attempts: 1, last_status: 502 });
  const pending = await call("GET", `/webhooks/${id}/deliveries?status=pending&limit=5`);
  expect(pending.body.deliveries.map((d: { status: string }) => d.status)).toEqual(["pending"]);
  expect((await call("GET", `/webhooks/${id}/deliveries?limit=1`)).body.deliveries).toHaveLength(1);

  const disabled = await call("POST", `/webhooks/${id}/disable`);
  expect(disabled).toMatchObject({ status: 200, body: { webhook: { id, status: "disabled" } } });
  expect((await call("POST", `/webhooks/${id}/disable`)).body.webhook.status).toBe("disabled");
  const { rows: audit } = await db.knex.raw(`select actor, action, target_id from audit_log where target_type = 'webhook' order by id`);
  expect(audit).toEqual([
    { actor: "operator:test", action: "webhook.created", target_id: id },
    { actor: "operator:test", action: "webhook.disabled", target_id: id },
  ]);
});

test("bad input is a 400 naming the problem, and nothing is stored", async () => {
  await createAccount(db.knex, { slug: "acme", domains: [] }, "test");
  const cases: Array<[unknown, RegExp]> = [
    [{ secretEnv: "IDSYNC_WEBHOOK_ACME" }, /url is required/],
    [{ url: "not a url", secretEnv: "IDSYNC_WEBHOOK_ACME" }, /is not a URL/],
    [{ url: "ftp://hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_ACME" }, /http or https/],
    [{ url: "https://user:pw@hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_ACME" }, /credentials/],
    [{ url: "https://hooks.example/x" }, /secretEnv is required/],
    [{ url: "https://hooks.example/x", secretEnv: "whsec_live_abcdef0123456789" }, /NAME of an environment variable/],
    [{ url: "https://hooks.example/x", secretEnv: "DATABASE_URL" }, /starting with IDSYNC_WEBHOOK_/],
    [{ url: "https://hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: [] }, /eventTypes/],
    [{ url: "https://hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: "member.added" }, /eventTypes/],
    [{ url: "https://hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_ACME", eventTypes: [3] }, /eventTypes/],
  ];
  for (const [body, detail] of cases) {
    const result = await call("POST", "/accounts/acme/webhooks", body);
    expect(result.status, JSON.stringify(body)).toBe(400);
    expect(result.body.detail).toMatch(detail);
  }
  expect(await count("webhook_endpoints")).toBe(0);
  expect(await count("audit_log where target_type = 'webhook'")).toBe(0);
});

test("unknown accounts and webhooks are 404; bad filters are 400", async () => {
  expect((await call("POST", "/accounts/ghost/webhooks", { url: "https://hooks.example/x", secretEnv: "IDSYNC_WEBHOOK_X" })).status).toBe(404);
  expect((await call("GET", "/accounts/ghost/webhooks")).status).toBe(404);
  expect((await call("GET", "/webhooks/not-a-uuid/deliveries")).status).toBe(404);
  expect((await call("GET", "/webhooks/00000000-0000-0000-0000-000000000000/deliveries")).status).toBe(404);
  expect((await call("POST", "/webhooks/00000000-0000-0000-0000-000000000000/disable")).status).toBe(404);

  await createAccount(db.knex, { slug: "acme", domains: [] }, "test");
  const { body } = await call("POST", "/accounts/acme/webhooks", { url: "http://127.0.0.1:9/x", secretEnv: "IDSYNC_WEBHOOK_ACME" });
  expect(body.webhook.event_types).toBeNull();
  expect((await call("GET", `/webhooks/${body.webhook.id}/deliveries?status=lost`)).status).toBe(400);
  expect((await call("GET", `/webhooks/${body.webhook.id}/deliveries?limit=0`)).status).toBe(400);
  expect((await call("GET", `/webhooks/${body.webhook.id}/deliveries?limit=abc`)).status).toBe(400);
});
