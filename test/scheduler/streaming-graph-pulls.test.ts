// A Graph full delta round (the first pull of a tenant, or a resync) written to the staging tables page by page,
// as a Google full pull is, on the real database: it gives the snapshot the in-memory round gave when it was
// written whole (the reference below, the code pulls ran before), the next round runs from the links it stored,
// and what Graph takes back later in a round (`@removed` after a listing) is not staged, unless listed again.
// Also the staging's count, which the drop guard judges: an Everyone group's users are counted once.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { snapshotByIdpIds } from "../support/snapshot-rows.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { createPulledConnection } from "../../src/accounts/connections.ts";
import { runPull } from "../../src/scheduler/pull-run.ts";
import { deltaPull } from "../../src/sources/graph/delta-pull.ts";
import { replaceConnectionSnapshot } from "../../src/snapshot/pulled-snapshot.ts";
import { applyStagedPull, countStagedPull, PullStaging } from "../../src/snapshot/pull-staging.ts";
import type { ConnectionScope } from "../../src/snapshot/connection-scope.ts";
import type { PulledUser } from "../../src/snapshot/pulled-directory.ts";
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


async function connection(slug: string, fake: GraphFake): Promise<ConnectionScope> {
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
    streamed = await connection("graph-stream", fake);
    reference = await connection("graph-stream-ref", fake);
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
    const snapshot = await snapshotByIdpIds(db(), streamed.connectionId);
    expect(snapshot).toEqual(await snapshotByIdpIds(db(), reference.connectionId));
    expect(snapshot.users).toHaveLength(3_000);
    expect(snapshot.members.filter((m: { member_type: string }) => m.member_type === "Group").length).toBeGreaterThanOrEqual(3);
    expect(first.counts).toMatchObject({ usersWritten: expected.counts.usersWritten, membershipsAdded: expected.counts.membershipsAdded });
    expect((await q(`select count(*)::int as n from pull_staging_users where account_id = ?`, [streamed.accountId]))[0].n).toBe(0);
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
});

test("what a round takes back after listing it is not staged; listed again after that, it is", async () => {
  const fake = await startGraphFake();
  try {
    const scope = await connection("graph-unlisted", fake);
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
    const scope = await connection("staged-count", fake);
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
