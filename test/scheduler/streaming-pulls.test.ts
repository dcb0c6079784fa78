// Streaming Google full pulls on the real database: pages are written to the staging tables as they
// arrive and applied in one set-based transaction. A pull that fails part-way or looks like a sharp
// drop leaves the snapshot exactly as it was and no staging rows; a killed pull's rows are dropped by
// the next pull; and a directory of thousands of users read page by page gives the same snapshot, and
// the same change counts, as the in-memory pull written the way it was before (replaceConnectionSnapshot).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { snapshotByIdpIds } from "../support/snapshot-rows.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { createPulledConnection } from "../../src/accounts/connections.ts";
import { runPull } from "../../src/scheduler/pull-run.ts";
import { fullPull } from "../../src/sources/google/full-pull.ts";
import { replaceConnectionSnapshot } from "../../src/snapshot/pulled-snapshot.ts";
import { PullStaging } from "../../src/snapshot/pull-staging.ts";
import type { ConnectionScope } from "../../src/snapshot/connection-scope.ts";
import { emptyDirectory, type FakeDirectory } from "../fakes/google/fake-directory.ts";
import type { GoogleFake } from "../fakes/google/google-fake.ts";
import { seededRandom } from "../fakes/seeded-random.ts";
import { ADMIN, connectionFor, startFake, testDeps } from "../sources/google/google-test-kit.ts";

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
    const first = await pull(streamed);
    expect(first.status).toBe("succeeded");
    const expected = await referencePull();
    const snapshot = await snapshotByIdpIds(db(), streamed.connectionId);
    expect(snapshot).toEqual(await snapshotByIdpIds(db(), reference.connectionId));
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
    expect(await snapshotByIdpIds(db(), streamed.connectionId)).toEqual(await snapshotByIdpIds(db(), reference.connectionId));
    expect(second.counts).toMatchObject(expectedSecond.counts);
    expect(expectedSecond.counts.usersTombstoned).toBe(100);
    expect(expectedSecond.counts.groupsTombstoned).toBe(1);

    // nothing changed: nothing written, no reconcile
    const third = await pull(streamed);
    expect(third).toMatchObject({ status: "succeeded", counts: { usersWritten: 0, usersTombstoned: 0, groupsWritten: 0, membershipsAdded: 0, membershipsRemoved: 0 } });
    expect(third.reconcile).toBeUndefined();
  }, 120_000);
});
