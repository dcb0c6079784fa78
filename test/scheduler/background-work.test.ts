// The background as replicas run it, on the real database and the real queue (graphile-worker on
// PostgreSQL, the in-process queue on the embedded database): writes wake it by NOTIFY, a slot is
// queued once however many replicas fire, every account runs once per slot, and a killed replica's
// job is taken by another.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { createLogger } from "../../src/log/logger.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { BackgroundWork } from "../../src/scheduler/background-work.ts";
import { PullScheduler } from "../../src/scheduler/pull-scheduler.ts";
import { HEARTBEAT_MS } from "../../src/scheduler/worker-liveness.ts";
import { runsFinished } from "../../src/metrics/metrics.ts";
import { ReconcileScheduler } from "../../src/scheduler/reconcile-scheduler.ts";

/** Reconcile runs counted in this process's /metrics. */
const reconcileRunsCounted = async () => (await runsFinished.get()).values.filter((v) => v.labels.kind === "reconcile").reduce((n, v) => n + v.value, 0);

const pgOnly = process.env.DATABASE_URL ? test : ((() => undefined) as unknown as typeof test);

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;

/** A replica's background, logging JSON lines into `lines`. */
function replica(name: string, lines: Array<Record<string, unknown>>): BackgroundWork {
  const sink = new Writable({ write(chunk, _encoding, done) { for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line)); done(); } });
  const log = createLogger("info", sink);
  return new BackgroundWork({
    database: harness.db, log, pulls: new PullScheduler({ db: harness.db.knex, log }), replica: name,
    fullReconcileSchedule: "0 0 1 1 *", concurrency: 2, queueSchema: harness.db.queueSchema, spread: 0,
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const RULES = (slug: string) => `version: 1
rules:
  - name: devs
    group: Developers
    domains:
      ${slug}.example.com: write
`;

test("a SCIM write wakes the queue by NOTIFY: the group change is applied without anyone polling", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const background = replica("r1", lines);
  await background.start();
  try {
    const client = await harness.tenant("wake");
    const account = await findAccount(harness.db.knex, "wake");
    await saveRules(harness.db.knex, account.id, RULES("wake"), "test");
    const group = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Developers" })).body.id;
    const user = (await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "dev@wake.example.com", active: true })).body.id;
    expect((await client.patch(`/Groups/${group}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: user }] }] })).status).toBe(204);
    await until(async () => (await q(`select count(*)::int as n from memberships m join users u on u.id = m.user_id where u.email = ? and m.status = 'active'`, ["dev@wake.example.com"]))[0].n === 1, "the member is provisioned");
    await until(async () => (await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [account.id]))[0].n === 0, "every request is answered");
    expect(lines.some((l) => l.msg === "reconciled" && l.accountId === account.id && l.replica === "r1")).toBe(true);
  } finally {
    await background.stop();
  }
});

test("two replicas fire the same full-reconcile slot: one queues it, and every account is reconciled exactly once", async () => {
  for (let i = 0; i < 12; i++) await harness.tenant(`slot-${i}`);
  const accounts = (await q(`select id from accounts`)).map((r: { id: string }) => r.id);
  const lines: Array<Record<string, unknown>> = [];
  const [a, b] = [replica("a", lines), replica("b", lines)];
  await a.start();
  await b.start();
  const countedBefore = await reconcileRunsCounted();
  try {
    const slot = new Date(Math.floor(Date.now() / 1000) * 1000);
    const [queuedA, queuedB] = await Promise.all([a.fullReconcileSlot(slot), b.fullReconcileSlot(slot)]);
    expect([queuedA, queuedB].filter((n) => n === null)).toHaveLength(1);
    expect(queuedA ?? queuedB).toBe(accounts.length);
    const done = () => lines.filter((l) => l.msg === "full reconcile done" && l.slot === slot.toISOString());
    await until(async () => done().length >= accounts.length && lines.some((l) => l.msg === "full reconcile done"), "every account's full reconcile is done");
    // a moment more, in which a duplicate would show
    await new Promise((resolve) => setTimeout(resolve, 500));
    const perAccount = new Map<string, number>();
    for (const line of done()) perAccount.set(line.accountId as string, (perAccount.get(line.accountId as string) ?? 0) + 1);
    expect([...perAccount.keys()].sort()).toEqual([...accounts].sort());
    expect([...perAccount.values()].every((n) => n === 1)).toBe(true);
    // counted where /metrics reads them, though on PostgreSQL they ran in the replicas' full-reconcile threads
    expect(await reconcileRunsCounted() - countedBefore).toBeGreaterThanOrEqual(accounts.length);
    // the same slot fired again (a late replica) queues nothing
    expect(await a.fullReconcileSlot(slot)).toBeNull();
  } finally {
    await a.stop();
    await b.stop();
  }
}, 60_000);

pgOnly("a job locked by a worker that died is freed and run by another replica", async () => {
  const schema = harness.db.queueSchema!;
  const lines: Array<Record<string, unknown>> = [];
  const survivor = replica("survivor", lines);
  await survivor.start();
  try {
    // a job the killed replica had claimed: locked by a worker that never says it is alive again
    await survivor.queue.add([{ task: "held_reminders", payload: { slot: "dead" }, key: "claimed-by-the-dead", runAt: new Date(Date.now() + 3_600_000) }]);
    await q(`update "${schema}"._private_jobs set locked_by = 'worker-killed', locked_at = now() - interval '31 seconds', run_at = now() where key = 'claimed-by-the-dead'`);
    await until(async () => (await q(`select count(*)::int as n from "${schema}"._private_jobs where key = 'claimed-by-the-dead'`))[0].n === 0, `the freed job is run (within ${HEARTBEAT_MS} ms of a heartbeat)`);
    expect(lines.some((l) => l.msg?.toString().startsWith("freed the jobs of queue workers") && (l.workers as string[]).includes("worker-killed"))).toBe(true);
  } finally {
    await survivor.stop();
  }
}, 60_000);

test("a slot's full reconcile whose job runs again (its replica died after the run committed) changes nothing; the next slot's runs", async () => {
  const client = await harness.tenant("once");
  const account = await findAccount(harness.db.knex, "once");
  await saveRules(harness.db.knex, account.id, RULES("once"), "test");
  const group = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Developers" })).body.id;
  const addDeveloper = async (userName: string) => {
    const user = (await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName, active: true })).body.id;
    await client.patch(`/Groups/${group}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: user }] }] });
  };
  const members = async () => (await q(`select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [account.id]))[0].n;
  const reconciles = new ReconcileScheduler({ db: harness.db.knex, log: createLogger("silent") });
  const slot = "2026-12-02T12:00:00.000Z";
  const before = await members();

  await addDeveloper("first@once.example.com");
  expect(await reconciles.scheduled(account.id, slot)).toBe("succeeded");
  expect(await members()).toBe(before + 1);
  // the same slot's job again, with something new to apply: the slot's reconcile happened already
  await addDeveloper("second@once.example.com");
  expect(await reconciles.scheduled(account.id, slot)).toBe("already-done");
  expect(await members()).toBe(before + 1);
  expect(await reconciles.scheduled(account.id, "2026-12-02T12:10:00.000Z")).toBe("succeeded");
  expect(await members()).toBe(before + 2);
});
