// Scheduled pulls end to end on the real database: the real @googleapis/admin and Graph clients read
// local fakes of the APIs, the pull writes the connection's snapshot in one transaction, and the
// account is reconciled through the same planner as SCIM. Every way a directory can fail ends in an
// aborted run with nothing removed.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { createPulledConnection } from "../../src/accounts/connections.ts";
import { createApiKey } from "../../src/accounts/api-keys.ts";
import { runPull, type PullDeps } from "../../src/scheduler/pull-run.ts";
import { emptyDirectory, type FakeDirectory } from "../fakes/google/fake-directory.ts";
import type { GoogleFake } from "../fakes/google/google-fake.ts";
import { ADMIN, startFake, testDeps } from "../sources/google/google-test-kit.ts";
import { startGraphFake, type GraphFake } from "../fakes/graph/graph-fake.ts";
import { companyRules, depsFor, seedCompany, settingsFor } from "../sources/graph/graph-fixture.ts";

const RULES = (domain: string) => `version: 1
rules:
  - name: owners
    group: owners@${domain}
    role: owner
  - name: developers
    group: developers@${domain}
    domains:
      ${domain}: write
`;

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;
const db = () => harness.db.knex;

interface GoogleWorld { fake: GoogleFake; dir: FakeDirectory; connectionId: string; accountId: string; deps: PullDeps; domain: string }

/** A directory of `n` developers plus an owner, an account whose rules map its groups, and a connection to it. */
const DEVELOPERS = 30;
/** Every user: the admin idsync reads as, the owner and the developers. */
const USERS = DEVELOPERS + 2;

async function googleWorld(slug: string, n = DEVELOPERS): Promise<GoogleWorld> {
  const domain = `${slug}.example.com`;
  const dir = emptyDirectory("C01abcd23", domain);
  // the admin idsync reads as (in no mapped group) and the owner, whose address is this account's own
  dir.users.push({ id: "100", primaryEmail: ADMIN, givenName: "Ada", familyName: "Admin", isAdmin: true },
    { id: "101", primaryEmail: `boss@${domain}`, givenName: "Bo", familyName: "Boss" });
  for (let i = 1; i <= n; i++) dir.users.push({ id: String(1000 + i), primaryEmail: `dev${i}@${domain}`, givenName: "Dev", familyName: String(i) });
  dir.groups.push({ id: "g-owners", email: `owners@${domain}`, name: "Owners" }, { id: "g-dev", email: `developers@${domain}`, name: "Developers" },
    { id: "g-team", email: `team@${domain}`, name: "Team" }, { id: "g-loop", email: `loop@${domain}`, name: "Loop" });
  dir.members.set("g-owners", [{ id: "101", type: "USER" }]);
  // Developers ⊃ Team ⊃ Loop ⊃ Team: a nesting cycle; Team's members are developers through it
  dir.members.set("g-dev", [...dir.users.slice(2, n + 1).map((u) => ({ id: u.id, type: "USER" as const })), { id: "g-team", type: "GROUP" }]);
  dir.members.set("g-team", [{ id: String(1000 + n), type: "USER" }, { id: "g-loop", type: "GROUP" }]);
  dir.members.set("g-loop", [{ id: "g-team", type: "GROUP" }]);
  await harness.tenant(slug, [domain]);
  const account = await findAccount(db(), slug);
  await saveRules(db(), account.id, RULES(domain), "test");
  const fake = await startFake(dir);
  const connection = await createPulledConnection(db(), slug, "google", undefined,
    { customerId: "my_customer", subject: ADMIN, credentials: { keyEnv: "GOOGLE_SA_KEY" }, fakeBaseUrl: fake.url }, "test");
  return { fake, dir, connectionId: connection.id, accountId: account.id, deps: { google: testDeps() }, domain };
}

const members = async (accountId: string) => q(
  `select u.email, m.role, m.status from memberships m join users u on u.id = m.user_id where m.account_id = ? and m.managed_by_connection_id is not null order by u.email`, [accountId]);

describe("Google Workspace", () => {
  let w: GoogleWorld;
  let worlds = 0;
  beforeEach(async () => {
    w = await googleWorld(`google-pulls-${++worlds}`);
    return () => w.fake.close();
  });

  test("a full pull writes the snapshot and reconciles: nested (and cyclic) groups grant access; a second pull changes nothing", async () => {
    const first = await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    expect(first).toMatchObject({ status: "succeeded", reconcile: { status: "succeeded" } });
    expect(first.calls).toBe(w.fake.calls.api);
    const rows = await members(w.accountId);
    expect(rows).toHaveLength(USERS - 1);
    expect(rows.find((r: { email: string }) => r.email === `boss@${w.domain}`).role).toBe("owner");
    expect(rows.find((r: { email: string }) => r.email === `dev${DEVELOPERS}@${w.domain}`)).toMatchObject({ role: "member", status: "active" }); // through Team
    const [run] = await q(`select status, api_calls, duration_ms, kind from sync_runs where id = ?`, [first.runId]);
    expect(run).toMatchObject({ status: "succeeded", api_calls: first.calls, kind: "google-full" });
    const second = await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    expect(second.status).toBe("succeeded");
    expect(second.reconcile).toBeUndefined(); // nothing in the snapshot changed
  });

  test("the departure check deprovisions a suspended user within its run: membership suspended, key revoked", async () => {
    await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    const [{ id: userId }] = await q(`select id from users where email = ?`, [`dev3@${w.domain}`]);
    const key = await createApiKey(db(), { accountId: w.accountId, userId, name: "ci" });
    w.dir.users.find((u) => u.id === "1003")!.suspended = true;
    const before = w.fake.calls.api;
    const run = await runPull(db(), w.connectionId, { mode: "departures", trigger: "test" }, w.deps);
    expect(run).toMatchObject({ status: "succeeded", reconcile: { status: "succeeded" } });
    expect(w.fake.calls.api - before).toBeLessThanOrEqual(5);
    expect((await members(w.accountId)).find((r: { email: string }) => r.email === `dev3@${w.domain}`).status).toBe("suspended");
    expect((await q(`select revoked_at is not null as revoked from api_keys where id = ?`, [key.id]))[0].revoked).toBe(true);
  });

  test("an email change keeps the same app user; a user re-created with a reused email is linked, not a departure", async () => {
    await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    const [{ id: before }] = await q(`select id from users where email = ?`, [`dev4@${w.domain}`]);
    w.dir.users.find((u) => u.id === "1004")!.primaryEmail = `dev4.renamed@${w.domain}`;
    // dev5 deleted and re-created under a new id with the same email, still in Developers
    const old = w.dir.users.find((u) => u.id === "1005")!;
    old.deletionTime = new Date().toISOString();
    w.dir.users.push({ id: "2005", primaryEmail: `dev5@${w.domain}`, givenName: "Dev", familyName: "5 again" });
    w.dir.members.get("g-dev")!.push({ id: "2005", type: "USER" });
    expect((await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps)).status).toBe("succeeded");
    expect((await q(`select id from users where email = ?`, [`dev4.renamed@${w.domain}`]))[0].id).toBe(before);
    expect(await q(`select id from users where email = ?`, [`dev4@${w.domain}`])).toEqual([]);
    expect((await members(w.accountId)).find((r: { email: string }) => r.email === `dev5@${w.domain}`)).toMatchObject({ status: "active" });
    expect((await q(`select count(*)::int as n from user_identities i join users u on u.id = i.user_id where u.email = ?`, [`dev5@${w.domain}`]))[0].n).toBe(2);
  });

  async function expectNothingRemoved(run: Awaited<ReturnType<typeof runPull>>, reason: RegExp): Promise<void> {
    expect(run.status).toBe("aborted");
    expect(run.error).toMatch(reason);
    expect((await q(`select status, error from sync_runs where id = ?`, [run.runId]))[0]).toMatchObject({ status: "aborted" });
    // one open alert per stuck connection, however many runs fail
    expect((await q(`select count(*)::int as n from alerts where account_id = ? and kind = 'pull_aborted' and resolved_at is null`, [w.accountId]))[0].n).toBe(1);
    expect((await members(w.accountId)).every((r: { status: string }) => r.status === "active")).toBe(true);
    expect((await q(`select count(*)::int as n from idp_users where connection_id = ? and deleted_at is null`, [w.connectionId]))[0].n).toBe(USERS);
  }

  test("an empty first page, a truncated page chain, a 5xx storm and a sharp drop each abort the run and remove nothing", async () => {
    await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    w.fake.knobs.fail(/\/users$/, "emptyPage");
    await expectNothingRemoved(await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps), /no active users/);
    w.fake.knobs.fail(/\/groups\/g-dev\/members$/, "truncatedChain");
    // a truncated chain needs a second page: make Developers span two
    for (let i = 0; i < 250; i++) w.dir.members.get("g-dev")!.push({ id: `ext-${i}`, type: "USER", email: `x${i}@elsewhere.example.org` });
    await expectNothingRemoved(await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps), /./);
    w.dir.members.get("g-dev")!.splice(-250);
    w.fake.knobs.fail(/\/groups$/, "error503", "error503", "error503", "error503", "error503", "error503");
    await expectNothingRemoved(await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps), /./);
    w.fake.knobs.clearFaults?.();
    for (const user of w.dir.users.slice(2, 14)) user.deletionTime = new Date().toISOString(); // 12 of 32 gone at once
    await expectNothingRemoved(await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps), new RegExp(`users in scope fell from ${USERS} to ${USERS - 12}`));
  });

  test("a 429 and a 403 usageLimits storm are retried and the pull succeeds; a success resolves the pull alert", async () => {
    w.fake.knobs.fail(/\/users$/, "error503", "error503", "error503", "error503", "error503", "error503");
    expect((await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps)).status).toBe("aborted");
    w.fake.knobs.clearFaults();
    w.fake.knobs.fail(/\/users$/, "rateLimit429", "userRateLimit403", "rateLimit429");
    const run = await runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, w.deps);
    expect(run.status).toBe("succeeded");
    expect((await q(`select count(*)::int as n from alerts where account_id = ? and kind like 'pull%' and resolved_at is null`, [w.accountId]))[0].n).toBe(0);
    expect(await members(w.accountId)).toHaveLength(USERS - 1);
  });

  test("two runs racing for one connection: one runs, the other finds it busy", async () => {
    w.fake.knobs.latencyMs = 30;
    const [a, b] = await Promise.all([
      runPull(db(), w.connectionId, { mode: "full", trigger: "a" }, w.deps),
      runPull(db(), w.connectionId, { mode: "full", trigger: "b" }, w.deps),
    ]);
    expect([a.status, b.status].sort()).toEqual(["busy", "succeeded"]);
    expect((await q(`select count(*)::int as n from sync_runs where connection_id = ?`, [w.connectionId]))[0].n).toBe(1);
  });

  test("a dry run shows the plan and writes nothing", async () => {
    const run = await runPull(db(), w.connectionId, { mode: "full", trigger: "test", dryRun: true }, w.deps);
    expect(run.status).toBe("dry-run");
    expect(run.plan!.actions.filter((a) => a.type === "add_member")).toHaveLength(USERS - 1);
    expect(await members(w.accountId)).toEqual([]);
    expect((await q(`select count(*)::int as n from idp_users where connection_id = ?`, [w.connectionId]))[0].n).toBe(0);
  });
});

describe("Microsoft Graph", () => {
  let fake: GraphFake;
  let connectionId: string;
  let accountId: string;
  let deps: PullDeps;
  const domain = "graph.example.com";

  beforeAll(async () => {
    fake = await startGraphFake();
    seedCompany(fake, domain, 6);
    await harness.tenant("graph-pulls", [domain]);
    accountId = (await findAccount(db(), "graph-pulls")).id;
    await saveRules(db(), accountId, companyRules(domain), "test");
    connectionId = (await createPulledConnection(db(), "graph-pulls", "graph", undefined, settingsFor(fake), "test")).id;
    deps = { graph: depsFor(fake) };
  });
  afterAll(() => fake.close());

  const userId = (upn: string) => [...fake.tenant.users.values()].find((r) => r.user.userPrincipalName === upn)!.user.id;

  test("the first delta round lists everything; later rounds apply only changes; accountEnabled=false and a soft delete are departures", async () => {
    expect((await runPull(db(), connectionId, { mode: "delta", trigger: "test" }, deps)).status).toBe("succeeded");
    expect(await members(accountId)).toHaveLength(7);
    fake.tenant.updateUser(userId(`dev1@${domain}`), { accountEnabled: false });
    fake.tenant.softDeleteUser(userId(`dev2@${domain}`));
    const round = await runPull(db(), connectionId, { mode: "delta", trigger: "test" }, deps);
    expect(round).toMatchObject({ status: "succeeded", reconcile: { status: "succeeded" } });
    expect(round.calls).toBeLessThanOrEqual(4);
    const after = await members(accountId);
    expect(after.filter((r: { status: string }) => r.status === "suspended").map((r: { email: string }) => r.email)).toEqual([`dev1@${domain}`, `dev2@${domain}`]);
  });

  test("a round from a replayed (older) delta link is harmless; a 410 leads to a full resync", async () => {
    const [state] = await q(`select users_delta_link, groups_delta_link from connection_sync_state where connection_id = ?`, [connectionId]);
    fake.tenant.updateUser(userId(`dev3@${domain}`), { displayName: "Dev Three" });
    expect((await runPull(db(), connectionId, { mode: "delta", trigger: "test" }, deps)).status).toBe("succeeded");
    // replay: put the previous links back and run again
    await q(`update connection_sync_state set users_delta_link = ?, groups_delta_link = ? where connection_id = ?`, [state.users_delta_link, state.groups_delta_link, connectionId]);
    const replay = await runPull(db(), connectionId, { mode: "delta", trigger: "test" }, deps);
    expect(replay.status).toBe("succeeded");
    expect((await members(accountId)).filter((r: { status: string }) => r.status === "active")).toHaveLength(5);
    fake.knobs.expireDeltaTokens();
    const resync = await runPull(db(), connectionId, { mode: "delta", trigger: "test" }, deps);
    expect(resync.status).toBe("succeeded");
    expect((await members(accountId)).filter((r: { status: string }) => r.status === "active")).toHaveLength(5);
    expect((await q(`select last_full_at is not null as full from connection_sync_state where connection_id = ?`, [connectionId]))[0].full).toBe(true);
  });
});
