// Streaming full pulls on the real database: pages are written to the staging tables as they arrive and
// applied in one set-based transaction. A pull that fails part-way or looks like a sharp drop leaves the
// snapshot exactly as it was and no staging rows; a killed pull's rows are dropped by the next pull; and a
// directory of thousands of users read page by page gives the same snapshot, and the same change counts,
// as the in-memory pull written the way it was before (replaceConnectionSnapshot). The same for a Graph
// full delta round (a tenant's first pull, or a resync), which also takes back what Graph reports
// `@removed` later in the round; and the staging's count, which the drop guard judges, holds an
// Everyone group's users once.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { createPulledConnection } from "../../src/accounts/connections.ts";
import { runPull } from "../../src/scheduler/pull-run.ts";
import { fullPull } from "../../src/sources/google/full-pull.ts";
import { deltaPull, SEGMENT_ENTRIES, streamFullDeltaRound } from "../../src/sources/graph/delta-pull.ts";
import { replaceConnectionSnapshot } from "../../src/snapshot/pulled-snapshot.ts";
import { applyStagedPull, countStagedPull, PullStaging } from "../../src/snapshot/pull-staging.ts";
import type { ConnectionScope } from "../../src/snapshot/connection-scope.ts";
import type { PulledUser } from "../../src/snapshot/pulled-directory.ts";
import { emptyDirectory, type FakeDirectory } from "../fakes/google/fake-directory.ts";
import type { GoogleFake } from "../fakes/google/google-fake.ts";
import { seededRandom } from "../fakes/seeded-random.ts";
import { ADMIN, connectionFor, startFake, testDeps } from "../sources/google/google-test-kit.ts";
import { startGraphFake, type GraphFake } from "../fakes/graph/graph-fake.ts";
import { generateTenant, type GeneratedTenant } from "../fakes/graph/tenant-generator.ts";
import { configFor, depsFor, NO_LINKS, settingsFor } from "../sources/graph/graph-fixture.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;
const db = () => harness.db.knex;

/**
 * `users` users (every 17th suspended, every 29th archived), `groups` groups of 0-400 members (several member
 * pages), one all-staff group through a CUSTOMER member, external members, and nesting with a cycle.
 */
function bigDirectory(domain: string, users: number, groups: number, seed = 7): FakeDirectory {
  const random = seededRandom(seed);
  const dir = emptyDirectory("C01abcd23", domain);
  dir.users.push({ id: "100", primaryEmail: ADMIN, givenName: "Ada", familyName: "Admin", isAdmin: true });
  for (let i = 1; i <= users; i++) {
    dir.users.push({ id: String(10_000 + i), primaryEmail: `user${i}@${domain}`, givenName: "User", familyName: String(i),
      ...(i % 17 === 0 ? { suspended: true } : {}), ...(i % 29 === 0 ? { archived: true } : {}), ...(i % 5 === 0 ? { department: `Dept ${i % 7}` } : {}) });
  }
  for (let g = 1; g <= groups; g++) {
    const id = `g-${g}`;
    dir.groups.push({ id, email: `group${g}@${domain}`, name: `Group ${g}` });
    const size = g % 10 === 0 ? 0 : Math.floor(random() * 400);
    const members = new Map<string, { id: string; type: "USER" }>();
    for (let k = 0; k < size; k++) {
      const u = dir.users[1 + Math.floor(random() * users)]!;
      members.set(u.id, { id: u.id, type: "USER" });
    }
    dir.members.set(id, [...members.values()]);
  }
  dir.groups.push({ id: "g-all", email: `all@${domain}`, name: "All staff" });
  dir.members.set("g-all", [{ id: "C01abcd23", type: "CUSTOMER" }]);
  // nesting: 2 ⊃ 3 ⊃ 4 ⊃ 2, and an external member that is no user of this directory
  dir.members.get("g-2")!.push({ id: "g-3", type: "GROUP" }, { id: "ext-1", type: "USER", email: "someone@elsewhere.example.org" } as never);
  dir.members.get("g-3")!.push({ id: "g-4", type: "GROUP" });
  dir.members.get("g-4")!.push({ id: "g-2", type: "GROUP" });
  return dir;
}

/** The whole snapshot of a connection, row by row, every column: what "unchanged" is checked against. */
async function exactSnapshot(connectionId: string) {
  return {
    users: await q(`select * from idp_users where connection_id = ? order by id`, [connectionId]),
    groups: await q(`select * from idp_groups where connection_id = ? order by id`, [connectionId]),
    members: await q(`select m.* from idp_group_members m join idp_groups g on g.id = m.group_id where g.connection_id = ? order by m.group_id, m.member_id`, [connectionId]),
    state: await q(`select last_good_users, last_good_memberships, last_good_at, last_full_at from connection_sync_state where connection_id = ?`, [connectionId]),
  };
}

/** A connection's snapshot in IdP terms (no snapshot ids): what two connections to one directory can share. */
async function snapshotByIdpIds(connectionId: string) {
  return {
    users: await q(`select source_id, user_name, display_name, email, active, resource, deleted_at is null as live from idp_users where connection_id = ? order by source_id`, [connectionId]),
    groups: await q(`select source_id, display_name, email, resource, deleted_at is null as live from idp_groups where connection_id = ? order by source_id`, [connectionId]),
    members: await q(`select g.source_id as group_source, coalesce(u.source_id, sg.source_id) as member_source, m.member_type
      from idp_group_members m join idp_groups g on g.id = m.group_id left join idp_users u on u.id = m.member_id left join idp_groups sg on sg.id = m.member_id
      where g.connection_id = ? order by 1, 2`, [connectionId]),
  };
}

async function stagingRows(accountId: string): Promise<number> {
  const [row] = await q(`select (select count(*) from pull_stagings where account_id = ?) + (select count(*) from pull_staging_users where account_id = ?)
    + (select count(*) from pull_staging_groups where account_id = ?) + (select count(*) from pull_staging_members where account_id = ?) as n`,
  [accountId, accountId, accountId, accountId]);
  return Number(row.n);
}

interface World { fake: GoogleFake; dir: FakeDirectory; connectionId: string; accountId: string; scope: ConnectionScope }

async function world(slug: string, users: number, groups: number, dir?: FakeDirectory, fake?: GoogleFake): Promise<World> {
  const domain = `${slug}.example.com`;
  dir ??= bigDirectory(domain, users, groups);
  fake ??= await startFake(dir);
  await harness.tenant(slug, [domain]);
  const account = await findAccount(db(), slug);
  const connection = await createPulledConnection(db(), slug, "google", undefined,
    { customerId: "my_customer", subject: ADMIN, credentials: { keyEnv: "GOOGLE_SA_KEY" }, fakeBaseUrl: fake.url }, "test");
  return { fake, dir, connectionId: connection.id, accountId: account.id, scope: { connectionId: connection.id, accountId: account.id } };
}

const pull = (w: World) => runPull(db(), w.connectionId, { mode: "full", trigger: "test" }, { google: testDeps() });

describe("a streaming Google full pull", () => {
  let w: World;
  beforeAll(async () => {
    w = await world("stream-fail", 1_200, 12);
    expect((await pull(w)).status).toBe("succeeded");
    // make the later pulls differ, so a pull that wrote anything would show
    for (const user of w.dir.users.slice(1, 40)) user.familyName = `${user.familyName} renamed`;
  });
  afterAll(() => w.fake.close());

  test("that fails part-way (a 5xx storm after some pages, a malformed page) leaves the snapshot exactly as it was and no staging rows", async () => {
    const before = await exactSnapshot(w.connectionId);
    // users and some groups' members are staged by then: the storm hits the second members page of a big group
    const big = [...w.dir.members].find(([, m]) => m.length > 200)![0];
    w.fake.knobs.fail(new RegExp(`/groups/${big}/members$`), "pass", ...Array(6).fill({ status: 500 }));
    const storm = await pull(w);
    expect(storm).toMatchObject({ status: "aborted" });
    expect(storm.calls).toBeGreaterThan(4);
    expect(await exactSnapshot(w.connectionId)).toEqual(before);
    expect(await stagingRows(w.accountId)).toBe(0);

    w.fake.knobs.clearFaults();
    w.fake.knobs.fail(/\/users$/, "pass", "missingKey");
    const malformed = await pull(w);
    expect(malformed.status).toBe("aborted");
    expect(malformed.error).toMatch(/had no "users"/);
    expect(await exactSnapshot(w.connectionId)).toEqual(before);
    expect(await stagingRows(w.accountId)).toBe(0);
    w.fake.knobs.clearFaults();
  });

  test("that looks like a sharp drop leaves the snapshot exactly as it was and no staging rows", async () => {
    const before = await exactSnapshot(w.connectionId);
    const deleted = w.dir.users.slice(1, 500);
    for (const user of deleted) user.deletionTime = new Date().toISOString();
    const run = await pull(w);
    expect(run.status).toBe("aborted");
    expect(run.error).toMatch(/users in scope fell from/);
    expect(await exactSnapshot(w.connectionId)).toEqual(before);
    expect(await stagingRows(w.accountId)).toBe(0);
    for (const user of deleted) delete user.deletionTime;
  });

  test("a killed pull's staging rows are dropped by the connection's next pull; the pull reports its transaction's duration", async () => {
    // what a process killed mid-pull leaves: a staging with some pages and nobody to drop it
    const killed = await PullStaging.open(db(), w.scope, null);
    await killed.write({ kind: "users", users: [{ sourceId: "x1", userName: "x1@example.com", email: null, displayName: null, active: true, resource: {} }] });
    await killed.write({ kind: "memberships", memberships: [{ groupSourceId: "g-1", memberSourceId: "x1", memberType: "User" }] });
    await killed.finish();
    expect(await stagingRows(w.accountId)).toBeGreaterThan(0);
    const run = await pull(w);
    expect(run.status).toBe("succeeded");
    expect(run.counts.transactionMs).toBeGreaterThanOrEqual(0);
    expect(await stagingRows(w.accountId)).toBe(0);
    const [row] = await q(`select counts from sync_runs where id = ?`, [run.runId]);
    expect(row.counts).toHaveProperty("transactionMs");
    expect(await q(`select source_id from idp_users where connection_id = ? and source_id = 'x1'`, [w.connectionId])).toEqual([]);
  });

  test("a dry run leaves no staging rows", async () => {
    const run = await runPull(db(), w.connectionId, { mode: "full", trigger: "test", dryRun: true }, { google: testDeps() });
    expect(run.status).toBe("dry-run");
    expect(await stagingRows(w.accountId)).toBe(0);
  });
});

describe("5,000 users read page by page", () => {
  let streamed: World;
  let reference: World;
  beforeAll(async () => {
    streamed = await world("stream-big", 5_000, 60);
    // the reference: a second connection to the same directory, written the way pulls were before streaming
    reference = await world("stream-ref", 0, 0, streamed.dir, streamed.fake);
  });
  afterAll(() => streamed.fake.close());

  async function referencePull() {
    const read = await fullPull(connectionFor(streamed.fake), testDeps());
    return db().transaction((trx) => replaceConnectionSnapshot(trx, reference.scope, read, null));
  }

  test("give the snapshot, and the change counts, of the in-memory pull; also after changes", async () => {
    const analyzeCount = async () => Number((await q(`select analyze_count + autoanalyze_count as n from pg_stat_user_tables where relid = to_regclass('idp_group_members')`))[0].n);
    const analyzedBefore = await analyzeCount();
    const first = await pull(streamed);
    expect(first.status).toBe("succeeded");
    // the pull analyzed the snapshot table it filled before it reconciled (no periodic check runs in this harness)
    expect(await analyzeCount()).toBeGreaterThan(analyzedBefore);
    const expected = await referencePull();
    const snapshot = await snapshotByIdpIds(streamed.connectionId);
    expect(snapshot).toEqual(await snapshotByIdpIds(reference.connectionId));
    // against the directory itself, independently of either write path
    const live = streamed.dir.users.filter((u) => !u.deletionTime);
    expect(snapshot.users.filter((u: { live: boolean }) => u.live)).toHaveLength(live.length);
    expect(snapshot.groups).toHaveLength(streamed.dir.groups.length);
    const active = live.filter((u) => !u.suspended && !u.archived).length;
    expect(snapshot.members.filter((m: { group_source: string }) => m.group_source === "g-all")).toHaveLength(active);
    expect(snapshot.members.some((m: { member_source: string }) => m.member_source === "ext-1")).toBe(false);
    expect(first.counts).toMatchObject({ ...expected.counts, users: live.length, groups: streamed.dir.groups.length, activeUsers: active, memberships: snapshot.members.length });
    expect(await stagingRows(streamed.accountId)).toBe(0);

    // renames, suspensions, departures (2 %: no suspicious drop), membership changes, a new and a deleted group
    const random = seededRandom(3);
    for (const user of streamed.dir.users.slice(1, 60)) user.givenName = "Renamed";
    for (const user of streamed.dir.users.slice(60, 90)) user.suspended = !user.suspended;
    for (const user of streamed.dir.users.slice(100, 200)) user.deletionTime = new Date().toISOString();
    streamed.dir.users.push({ id: "99999", primaryEmail: `newcomer@stream-big.example.com`, givenName: "New", familyName: "Comer" });
    for (const [, members] of [...streamed.dir.members].slice(0, 20)) members.splice(0, Math.floor(random() * 10));
    streamed.dir.members.get("g-5")!.push({ id: "99999", type: "USER" });
    streamed.dir.groups.push({ id: "g-new", email: "new@stream-big.example.com", name: "New group" });
    streamed.dir.members.set("g-new", [{ id: "10001", type: "USER" }, { id: "g-1", type: "GROUP" }]);
    const gone = streamed.dir.groups.findIndex((g) => g.id === "g-7");
    streamed.dir.groups.splice(gone, 1);
    streamed.dir.members.delete("g-7");

    const second = await pull(streamed);
    expect(second.status).toBe("succeeded");
    const expectedSecond = await referencePull();
    expect(await snapshotByIdpIds(streamed.connectionId)).toEqual(await snapshotByIdpIds(reference.connectionId));
    expect(second.counts).toMatchObject(expectedSecond.counts);
    expect(expectedSecond.counts.usersTombstoned).toBe(100);
    expect(expectedSecond.counts.groupsTombstoned).toBe(1);

    // nothing changed: nothing written, no reconcile
    const third = await pull(streamed);
    expect(third).toMatchObject({ status: "succeeded", counts: { usersWritten: 0, usersTombstoned: 0, groupsWritten: 0, membershipsAdded: 0, membershipsRemoved: 0 } });
    expect(third.reconcile).toBeUndefined();
  }, 120_000);
});

async function graphConnection(slug: string, fake: GraphFake): Promise<ConnectionScope> {
  await harness.tenant(slug, [`${slug}.example.com`]);
  const accountId = (await findAccount(db(), slug)).id;
  const connectionId = (await createPulledConnection(db(), slug, "graph", undefined, settingsFor(fake), "test")).id;
  return { accountId, connectionId };
}

describe("a Graph full round of 3,000 users, streamed", () => {
  let fake: GraphFake;
  let generated: GeneratedTenant;
  let streamed: ConnectionScope;
  let reference: ConnectionScope;
  beforeAll(async () => {
    generated = generateTenant({ seed: 11, users: 3_000, groups: 40, memberships: 6_000 });
    // small pages, so the round spans many pages of each kind
    fake = await startGraphFake({ tenant: generated.tenant, pageSize: { users: 200, groups: 10 }, membersPerEntry: 50 });
    streamed = await graphConnection("graph-stream", fake);
    reference = await graphConnection("graph-stream-ref", fake);
  });
  afterAll(() => fake.close());

  /** The reference: the whole round read in memory and written whole, as pulls did before they streamed. */
  async function referencePull() {
    const round = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    const removed = new Set(round.removedUsers.map((r) => r.sourceId));
    return db().transaction((trx) => replaceConnectionSnapshot(trx, reference, {
      users: round.changedUsers.filter((u) => !removed.has(u.sourceId)), groups: round.changedGroups, memberships: round.addedMemberships,
    }, null));
  }

  test("gives the snapshot of the in-memory round, leaves no staging, and the next round runs from its links", async () => {
    const first = await runPull(db(), streamed.connectionId, { mode: "full", trigger: "test" }, { graph: depsFor(fake) });
    expect(first.status).toBe("succeeded");
    const expected = await referencePull();
    const snapshot = await snapshotByIdpIds(streamed.connectionId);
    expect(snapshot).toEqual(await snapshotByIdpIds(reference.connectionId));
    expect(snapshot.users).toHaveLength(3_000);
    expect(snapshot.members.filter((m: { member_type: string }) => m.member_type === "Group").length).toBeGreaterThanOrEqual(3);
    expect(first.counts).toMatchObject({ usersWritten: expected.counts.usersWritten, membershipsAdded: expected.counts.membershipsAdded });
    expect(await stagingRows(streamed.accountId)).toBe(0);
    const [state] = await q(`select users_delta_link is not null and groups_delta_link is not null as links, last_full_at is not null as full
      from connection_sync_state where connection_id = ?`, [streamed.connectionId]);
    expect(state).toEqual({ links: true, full: true });

    // a delta round from those links carries only the change
    const someone = generated.userIds[42]!;
    generated.tenant.updateUser(someone, { displayName: "Renamed Person" });
    const next = await runPull(db(), streamed.connectionId, { mode: "delta", trigger: "test" }, { graph: depsFor(fake) });
    expect(next).toMatchObject({ status: "succeeded", counts: { usersWritten: 1 } });
    expect(next.calls).toBeLessThanOrEqual(4);
    expect((await q(`select display_name from idp_users where connection_id = ? and source_id = ?`, [streamed.connectionId, someone]))[0].display_name).toBe("Renamed Person");
  }, 120_000);

  test("hands its users on in pages of at most SEGMENT_ENTRIES while Graph is still being read, not the directory at once", async () => {
    const stream = streamFullDeltaRound(configFor(fake), depsFor(fake));
    const userPagesOfGraph = Math.ceil(3_000 / 200);
    let users = 0;
    let largest = 0;
    let callsAtFirstUsers: number | undefined;
    for await (const page of stream) {
      if (page.kind !== "users") continue;
      callsAtFirstUsers ??= stream.calls;
      users += page.users.length;
      largest = Math.max(largest, page.users.length);
    }
    expect(users).toBe(3_000);
    expect(largest).toBeLessThanOrEqual(SEGMENT_ENTRIES);
    // the first users reached the staging after a few of Graph's 15 users pages, not after all of them
    expect(callsAtFirstUsers).toBeLessThan(userPagesOfGraph);
  });

  test("a full round whose groups answer breaks after the users were staged writes nothing and leaves no staging", async () => {
    // something the round would change, so a round that wrote anything would show
    for (const id of generated.userIds.slice(100, 140)) generated.tenant.updateUser(id, { displayName: "Changed Meanwhile" });
    const before = await exactSnapshot(streamed.connectionId);
    const [links] = await q(`select users_delta_link, groups_delta_link from connection_sync_state where connection_id = ?`, [streamed.connectionId]);
    // every users page is read and staged first; then groups/delta answers a page without its value list
    fake.knobs.fault("/v1.0/groups/delta", { kind: "missingValue" });
    const run = await runPull(db(), streamed.connectionId, { mode: "full", trigger: "test" }, { graph: depsFor(fake) });
    expect(run.status).toBe("aborted");
    expect(run.error).toMatch(/groups\/delta page 1 had no value list/);
    expect(await exactSnapshot(streamed.connectionId)).toEqual(before);
    expect(await stagingRows(streamed.accountId)).toBe(0);
    expect(await q(`select users_delta_link, groups_delta_link from connection_sync_state where connection_id = ?`, [streamed.connectionId])).toEqual([links]);
  }, 60_000);
});

test("what a round takes back after listing it is not staged; listed again after that, it is", async () => {
  const fake = await startGraphFake();
  try {
    const scope = await graphConnection("graph-unlisted", fake);
    const user = (id: string): PulledUser => ({ sourceId: id, userName: `${id}@unlisted.example.com`, email: null, displayName: null, active: true, resource: {} });
    const staging = await PullStaging.open(db(), scope, null);
    // 2,000 users fill a batch, which is written before the removal arrives; the next five are still pending then
    await staging.write({ kind: "users", users: Array.from({ length: 2_000 }, (_, i) => user(`u${i}`)) });
    await staging.write({ kind: "users", users: Array.from({ length: 5 }, (_, i) => user(`u${2_000 + i}`)) });
    await staging.write({ kind: "groups", groups: [{ sourceId: "g1", displayName: "G1", email: null, resource: {} }, { sourceId: "g2", displayName: "G2", email: null, resource: {} }] });
    const edge = (member: string) => ({ groupSourceId: "g1", memberSourceId: member, memberType: "User" as const });
    await staging.write({ kind: "memberships", memberships: [edge("u1"), edge("u2"), edge("u3")] });
    // u0 was written already, u2004 is still pending; u5 and u3's edge are listed again later
    await staging.write({ kind: "unlisted", users: ["u0", "u2004", "u5"], groups: ["g2"], memberships: [edge("u2"), edge("u3")] });
    await staging.write({ kind: "users", users: [user("u5")] });
    await staging.write({ kind: "memberships", memberships: [edge("u3")] });
    await staging.finish();
    const staged = async (table: string, column: string) =>
      (await q(`select ${column} as k from ${table} where stage_id = ? order by 1`, [staging.stageId])).map((r: { k: string }) => r.k);
    const users = await staged("pull_staging_users", "source_id");
    expect(users).toHaveLength(2_003);
    expect(users).not.toContain("u0");
    expect(users).not.toContain("u2004");
    expect(users).toContain("u5");
    expect(await staged("pull_staging_groups", "source_id")).toEqual(["g1"]);
    expect(await staged("pull_staging_members", "member_source")).toEqual(["u1", "u3"]);
    expect(await countStagedPull(db(), scope, staging.stageId)).toMatchObject({ users: 2_003, memberships: 2, groups: 1 });
    await staging.drop();
  } finally {
    await fake.close();
  }
});

test("the drop guard's count holds an Everyone group's users once, its named members included, as the apply writes them", async () => {
  const fake = await startGraphFake();
  try {
    const scope = await graphConnection("staged-count", fake);
    const user = (id: string, active = true): PulledUser => ({ sourceId: id, userName: `${id}@staged-count.example.com`, email: null, displayName: null, active, resource: {} });
    const group = (id: string) => ({ sourceId: id, displayName: id, email: null, resource: {} });
    const staging = await PullStaging.open(db(), scope, null);
    await staging.write({ kind: "users", users: [user("a"), user("b"), user("c", false)] });
    await staging.write({ kind: "groups", groups: [group("G"), group("H")] });
    await staging.write({ kind: "memberships", memberships: [
      { groupSourceId: "G", memberType: "Everyone" },
      // named as well: a is in G through Everyone already; c, inactive, only by name
      { groupSourceId: "G", memberSourceId: "a", memberType: "User" }, { groupSourceId: "G", memberSourceId: "c", memberType: "User" },
      { groupSourceId: "H", memberSourceId: "a", memberType: "User" }, { groupSourceId: "H", memberSourceId: "G", memberType: "Group" },
      // a member that is no user of this directory, and an edge of a group the pull did not hand over
      { groupSourceId: "H", memberSourceId: "stranger", memberType: "User" }, { groupSourceId: "X", memberSourceId: "a", memberType: "User" },
    ] });
    await staging.finish();
    // G: a, b (Everyone), c (named); H: a, G
    expect(await countStagedPull(db(), scope, staging.stageId)).toEqual({ users: 2, memberships: 5, listedUsers: 3, groups: 2 });
    await db().transaction((trx) => applyStagedPull(trx, scope, staging.stageId, null));
    const [written] = await q(`select count(*)::int as n from idp_group_members m join idp_groups g on g.id = m.group_id where g.connection_id = ?`, [scope.connectionId]);
    expect(written.n).toBe(5);
  } finally {
    await fake.close();
  }
});
