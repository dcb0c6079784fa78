// The removal brake end to end, on the real database: real SCIM pushes, the real reconcile, the
// scheduler's full reconcile and its worker in between, and operators' decisions through the admin API.
// Each test reproduces a finding of issue 12: approving one held run applied other runs' removals; a
// superseded run could not be cleared; a reconcile while held made a duplicate; a rejection did not
// survive the window or a raised limit; the brake's message hid the window; `rules set` hid warnings.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { ReconcileScheduler } from "../../src/scheduler/reconcile-scheduler.ts";
import { remindHeldRuns } from "../../src/reconcile/runs.ts";
import { createLogger } from "../../src/log/logger.ts";

const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
/** One departure is a suspension and a revoked grant: 2 removals, over a minimum of 1. */
const rules = (slug: string, minimum = 1) => `version: 1
policy:
  removal_brake:
    minimum: ${minimum}
    percent: 0
rules:
  - name: devs
    group: Developers
    domains:
      ${slug}.example.com: write
`;

let harness: ScimHarness;
let scheduler: ReconcileScheduler;
beforeAll(async () => {
  // the queued path: SCIM departures are not reconciled before the answer here (that is test/scim/departures.test.ts)
  harness = await startScimHarness({ departures: false });
  scheduler = new ReconcileScheduler({ db: harness.db.knex, log: createLogger("silent") });
});
afterAll(() => harness.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as the test reads it
async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${harness.url}/admin/v1${path}`, {
    method, headers: { authorization: `Bearer ${harness.adminToken}`, ...(body === undefined ? {} : { "content-type": typeof body === "string" ? "application/yaml" : "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;

interface Company { client: ScimClient; slug: string; accountId: string; group: string; users: Map<string, string> }

async function company(slug: string, people: string[]): Promise<Company> {
  const client = await harness.tenant(slug);
  const { id: accountId } = await findAccount(harness.db.knex, slug);
  await saveRules(harness.db.knex, accountId, rules(slug), "test");
  const users = new Map<string, string>();
  for (const name of people) {
    const email = `${name}@${slug}.example.com`;
    users.set(name, (await client.post("/Users", { schemas: [USER], userName: email, emails: [{ type: "work", primary: true, value: email }] })).body.id);
  }
  const group = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Developers", members: [...users.values()].map((value) => ({ value })) })).body.id;
  expect((await reconcileAccount(harness.db.knex, accountId, { trigger: "test" })).status).toBe("succeeded");
  return { client, slug, accountId, group, users };
}

const deactivate = (c: Company, name: string) =>
  c.client.patch(`/Users/${c.users.get(name)}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] });
const statusOf = async (c: Company, name: string) => (await q(
  `select m.status from memberships m join users u on u.id = m.user_id where m.account_id = ? and u.email = ?`, [c.accountId, `${name}@${c.slug}.example.com`]))[0]?.status;
const runsOf = async (c: Company) => (await q(`select id, status from sync_runs where account_id = ? order by started_at`, [c.accountId]));
/** The brake's window, passed: the reconciler's removals are dated before it (no waiting in a test). */
const windowPasses = (c: Company) => q(`update audit_log set occurred_at = occurred_at - interval '1 hour' where account_id = ?`, [c.accountId]);

/**
 * The brake's invariant, read back from what the database recorded: every membership or grant the
 * reconciler removed was in a run within the limit (its removals plus the window's); every one removed
 * in an operator's name was approved in a run that showed it; none was removed while a rejection stood.
 */
async function expectBrakeInvariant(c: Company): Promise<void> {
  const removals = await q(`select id, run_id, actor, action, target_id, before from audit_log
    where account_id = ? and action in ('member.deprovisioned', 'domain.revoked') order by id`, [c.accountId]);
  expect(removals.length).toBeGreaterThan(0);
  const runs = new Map<string, Record<string, number>>((await q(`select id, counts from sync_runs where account_id = ?`, [c.accountId])).map((r: { id: string; counts: Record<string, number> }) => [r.id, r.counts]));
  for (const run of new Set<string>(removals.filter((r: { actor: string }) => r.actor === "reconciler").map((r: { run_id: string }) => r.run_id))) {
    const counts = runs.get(run)!;
    const byReconciler = removals.filter((r: { run_id: string; actor: string }) => r.run_id === run && r.actor === "reconciler").length;
    expect(byReconciler + counts.inWindow!, `run ${run}`).toBeLessThanOrEqual(counts.limit!);
  }
  for (const r of removals.filter((x: { actor: string }) => x.actor !== "reconciler")) {
    const key = r.action === "member.deprovisioned" ? `suspend_member:${r.target_id}` : `revoke_domain:${r.target_id}:${r.before.domainId}`;
    const shown = await q(`select 1 from held_removals where account_id = ? and key = ? and decision = 'approved' and decided_by = ?`, [c.accountId, key, r.actor]);
    expect(shown.length, `${r.action} ${key} by ${r.actor}`).toBeGreaterThan(0);
  }
  const decisions = await q(`select id, action, target_id from audit_log where account_id = ? and action in ('removal.rejected', 'rejection.lifted') order by id`, [c.accountId]);
  for (const rejection of decisions.filter((d: { action: string }) => d.action === "removal.rejected")) {
    const until = decisions.find((d: { id: string; action: string; target_id: string }) => d.action === "rejection.lifted" && d.target_id === rejection.target_id && Number(d.id) > Number(rejection.id));
    const during = removals.filter((r: { id: string; target_id: string }) => r.target_id === rejection.target_id && Number(r.id) > Number(rejection.id) && (!until || Number(r.id) < Number(until.id)));
    expect(during, `removed while rejected: ${rejection.target_id}`).toEqual([]);
  }
}

test("two held runs: approving the older applies only its removals; the newer stays held; a reconcile while held makes no duplicate", async () => {
  const c = await company("brake-two", ["a", "b", "c", "d"]);
  await deactivate(c, "a");
  await scheduler.drainRequests();
  const [first] = (await runsOf(c)).filter((r: { status: string }) => r.status === "held");
  expect(first).toBeDefined();
  await deactivate(c, "b");
  await deactivate(c, "c");
  await scheduler.drainRequests();
  const held = await q(`select id, status, superseded_by from sync_runs where account_id = ? and status in ('held', 'superseded') order by held_at`, [c.accountId]);
  expect(held.map((r: { status: string }) => r.status)).toEqual(["superseded", "held"]);
  const second = held[1].id;
  expect(held[0]).toMatchObject({ id: first.id, superseded_by: second });

  // the scheduler's full reconcile and an operator's reconcile while held: no new run, answered with the held one
  const before = (await runsOf(c)).length;
  await scheduler.reconcileEverything();
  const again = await admin("POST", `/accounts/${c.slug}/reconcile`);
  expect(again.body).toMatchObject({ status: "held", runId: second, applied: 0 });
  expect((await runsOf(c)).length).toBe(before);

  // approving the superseded run applies a's removals, and only those
  const approved = await admin("POST", `/runs/${first.id}/approve`);
  expect(approved.body).toMatchObject({ approvedRunStatus: "approved", approved: 2, stillHeld: second });
  expect(await statusOf(c, "a")).toBe("suspended");
  expect(await statusOf(c, "b")).toBe("active");
  expect(await statusOf(c, "c")).toBe("active");
  expect((await q(`select status from sync_runs where id = ?`, [second]))[0].status).toBe("held");
  const alerts = await q(`select run_id from alerts where account_id = ? and kind = 'run_held' and resolved_at is null`, [c.accountId]);
  expect(alerts.map((a: { run_id: string }) => a.run_id)).toEqual([second]);
  // a's removals were approved by the operator, in their name
  expect((await q(`select distinct actor from audit_log where account_id = ? and run_id = ? and action = 'member.deprovisioned'`, [c.accountId, approved.body.runId])).map((r: { actor: string }) => r.actor))
    .toEqual(["operator:test"]);

  // the newer run, approved for one person: b goes, c stays held
  expect((await admin("POST", `/runs/${second}/approve`, { email: `b@${c.slug}.example.com` })).body).toMatchObject({ approved: 2, approvedRunStatus: "held" });
  expect(await statusOf(c, "b")).toBe("suspended");
  expect(await statusOf(c, "c")).toBe("active");
  // a person the run does not hold is refused in the admin API's own form
  const stranger = await admin("POST", `/runs/${second}/approve`, { email: `d@${c.slug}.example.com` });
  expect(stranger).toMatchObject({ status: 400, body: { detail: `run ${second} holds no undecided removal of d@${c.slug}.example.com` } });
  expect((await admin("POST", `/runs/${second}/approve`)).body).toMatchObject({ approvedRunStatus: "approved", approved: 2, stillHeld: null });
  expect(await statusOf(c, "c")).toBe("suspended");
  expect(await statusOf(c, "d")).toBe("active");
  expect((await admin("POST", `/runs/${second}/approve`)).status).toBe(400);
  await expectBrakeInvariant(c);
}, 120_000);

test("a rejection sticks through the window, a scheduled reconcile, a raised limit and a rewrite of the same facts; a fact change ends it", async () => {
  const c = await company("brake-reject", ["keep", "other"]);
  await deactivate(c, "keep");
  const held = await reconcileAccount(harness.db.knex, c.accountId, { trigger: "test" });
  expect(held.status).toBe("held");
  const rejected = await admin("POST", `/runs/${held.runId}/reject`);
  expect(rejected.body).toMatchObject({ status: "rejected", people: 1 });

  const members = await admin("GET", `/accounts/${c.slug}/members`);
  expect(members.body.members.find((m: { email: string }) => m.email === `keep@${c.slug}.example.com`)).toMatchObject({ status: "active", kept: `kept by an operator's decision (run ${held.runId} rejected)` });
  expect((await q(`select kind from alerts where account_id = ? and resolved_at is null`, [c.accountId])).map((a: { kind: string }) => a.kind)).toEqual(["access_kept"]);

  await windowPasses(c);
  await scheduler.reconcileEverything();
  expect(await statusOf(c, "keep")).toBe("active");
  // raising the brake's limit is no change of the person's facts
  const raised = await admin("PUT", `/accounts/${c.slug}/rules`, rules(c.slug, 1000));
  expect(raised.body.run).toMatchObject({ kept: 2 });
  expect(await statusOf(c, "keep")).toBe("active");
  // the IdP rewrites the same facts (a full PUT of the same user): still no change
  const email = `keep@${c.slug}.example.com`;
  await c.client.put(`/Users/${c.users.get("keep")}`, { schemas: [USER], userName: email, active: false, emails: [{ type: "work", primary: true, value: email }] });
  await scheduler.drainRequests();
  await scheduler.reconcileEverything();
  expect(await statusOf(c, "keep")).toBe("active");
  const plan = await admin("GET", `/accounts/${c.slug}/plan`);
  expect(plan.body.rows.filter((r: { brake?: string }) => r.brake).map((r: { brake: string }) => r.brake)).toContain(`kept by an operator's decision (run ${held.runId} rejected)`);

  // the person also leaves the group: their facts changed, the removal goes ahead (the raised limit lets it pass)
  await c.client.patch(`/Groups/${c.group}`, { schemas: [PATCH], Operations: [{ op: "remove", path: `members[value eq "${c.users.get("keep")}"]` }] });
  await scheduler.drainRequests();
  expect(await statusOf(c, "keep")).toBe("suspended");
  expect(await statusOf(c, "other")).toBe("active");
  expect((await q(`select count(*)::int as n from removal_rejections where account_id = ?`, [c.accountId]))[0].n).toBe(0);
  expect((await q(`select count(*)::int as n from alerts where account_id = ? and resolved_at is null`, [c.accountId]))[0].n).toBe(0);
  await expectBrakeInvariant(c);
}, 120_000);

test("per-person reject keeps only that person; lifting a rejection sends the removal through the brake again", async () => {
  const c = await company("brake-lift", ["x", "y"]);
  await deactivate(c, "x");
  await deactivate(c, "y");
  const held = await reconcileAccount(harness.db.knex, c.accountId, { trigger: "test" });
  expect(held.brake?.message).toContain(`held: 4 removals in this run + 0 applied in the last 15 min = 4 > limit 1 (max(1, 0 % of 3 members))`);
  expect((await admin("POST", `/runs/${held.runId}/reject`, { email: `x@${c.slug}.example.com` })).body).toMatchObject({ status: "held", people: 1 });
  expect((await admin("POST", `/runs/${held.runId}/approve`)).body).toMatchObject({ approvedRunStatus: "approved", approved: 2 });
  expect(await statusOf(c, "x")).toBe("active");
  expect(await statusOf(c, "y")).toBe("suspended");

  expect((await admin("GET", `/accounts/${c.slug}/kept`)).body.kept.map((k: { email: string }) => k.email)).toEqual([`x@${c.slug}.example.com`]);
  expect((await admin("POST", `/accounts/${c.slug}/kept/lift`, { email: `x@${c.slug}.example.com` })).body).toEqual({ lifted: 1 });
  await scheduler.drainRequests();
  // planned again, and held again by the brake (2 removals > limit 1), not applied
  expect(await statusOf(c, "x")).toBe("active");
  const again = await q(`select id from sync_runs where account_id = ? and status = 'held'`, [c.accountId]);
  expect(again).toHaveLength(1);
  expect(again[0].id).not.toBe(held.runId);
  await expectBrakeInvariant(c);
}, 120_000);

test("rules set reconciles at once and says what happened: the warnings, the held run with its numbers, trigger rules change", async () => {
  const c = await company("brake-rules", ["p", "q"]);
  const strict = `version: 1
policy:
  removal_brake:
    minimum: 1
    percent: 0
rules:
  - name: devs
    group: Engineers
    domains:
      nowhere.example.org: read
`;
  const answer = await admin("PUT", `/accounts/${c.slug}/rules`, strict);
  expect(answer.body.warnings.map((w: { message: string }) => w.message)).toEqual(["no domain of this account matches nowhere.example.org", `no IdP group is called or has the id "Engineers"`]);
  expect(answer.body.run).toMatchObject({ status: "held", withheld: 4 });
  expect(answer.body.run.message).toMatch(/held: 4 removals in this run \+ 0 applied in the last 15 min = 4 > limit 1/);
  expect((await q(`select trigger from sync_runs where id = ?`, [answer.body.run.runId]))[0].trigger).toBe("rules change");
  expect(await statusOf(c, "p")).toBe("active");
}, 120_000);

test("a held run's own duration is kept apart from its wait; it is announced again while it waits", async () => {
  const c = await company("brake-time", ["t"]);
  await deactivate(c, "t");
  const held = await reconcileAccount(harness.db.knex, c.accountId, { trigger: "test" });
  const [before] = await q(`select finished_at, held_at from sync_runs where id = ?`, [held.runId]);
  // it waited five hours (dated back, not waited for): a reminder event, the alert refreshed
  await q(`update sync_runs set held_at = held_at - interval '5 hours', started_at = started_at - interval '5 hours', finished_at = finished_at - interval '5 hours' where id = ?`, [held.runId]);
  expect(await remindHeldRuns(harness.db.knex)).toBeGreaterThanOrEqual(1);
  expect((await q(`select count(*)::int as n from events where run_id = ? and type = 'run.held.reminder'`, [held.runId]))[0].n).toBe(1);
  expect(await remindHeldRuns(harness.db.knex)).toBe(0);
  await admin("POST", `/runs/${held.runId}/approve`);
  const { runs } = (await admin("GET", `/accounts/${c.slug}/runs`)).body;
  const run = runs.find((r: { id: string }) => r.id === held.runId);
  expect(new Date(run.finished_at).getTime()).toBe(new Date(before.finished_at).getTime() - 5 * 3_600_000);
  expect(run.duration_ms).toBeLessThan(3_600_000);
  expect(run).toMatchObject({ status: "approved", decided_by: "operator:test" });
  expect(new Date(run.decided_at).getTime() - new Date(run.held_at).getTime()).toBeGreaterThanOrEqual(5 * 3_600_000);
}, 120_000);
