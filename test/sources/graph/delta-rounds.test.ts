// Graph delta rounds through the real Graph client, MSAL credential and HTTPS against the local Graph fake.
import { afterEach, describe, expect, it } from "vitest";
import { deltaPull } from "../../../src/sources/graph/delta-pull.ts";
import type { DeltaPull } from "../../../src/snapshot/pulled-directory.ts";
import { startGraphFake, type GraphFake } from "../../fakes/graph/graph-fake.ts";
import { generateTenant } from "../../fakes/graph/tenant-generator.ts";
import { FakeTenant } from "../../fakes/graph/tenant-model.ts";
import { configFor, depsFor, NO_LINKS } from "./graph-fixture.ts";

let fake: GraphFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const links = (pull: DeltaPull) => ({ usersDeltaLink: pull.usersDeltaLink, groupsDeltaLink: pull.groupsDeltaLink });
const edgeKeys = (edges: DeltaPull["addedMemberships"]) => edges.map((e) => `${e.groupSourceId}>${e.memberSourceId}:${e.memberType}`).sort();

describe("Graph delta pull", () => {
  it("lists a large tenant across pages on the initial round, then only 500 changes in at most 20 calls", async () => {
    const generated = generateTenant({ seed: 7, users: 2_000, groups: 60, memberships: 4_000 });
    const { tenant, userIds, groupIds } = generated;
    fake = await startGraphFake({ tenant });
    const config = configFor(fake);
    const deps = depsFor(fake);

    const initial = await deltaPull(config, deps, NO_LINKS);
    expect(initial.full).toBe(true);
    expect(initial.changedUsers).toHaveLength(2_000);
    expect(initial.changedGroups).toHaveLength(60);
    expect(initial.addedMemberships).toHaveLength(4_000 + generated.nestedEdges.length);
    expect(initial.removedUsers).toEqual([]);
    expect(fake.calls.path("/v1.0/users/delta")).toBe(10); // 2,000 users at the fake's 200 per page
    expect(initial.calls).toBe(fake.calls.graph);
    const guest = initial.changedUsers.find((u) => u.userName.includes("#EXT#"));
    expect(guest?.resource).toMatchObject({ userType: "Guest" });

    const before = fake.calls.graph;
    const enabled = userIds.filter((id) => tenant.users.get(id)!.user.accountEnabled);
    for (const id of enabled.slice(0, 100)) tenant.updateUser(id, { accountEnabled: false });
    for (const id of enabled.slice(100, 250)) tenant.updateUser(id, { displayName: "Renamed" });
    for (const id of enabled.slice(250, 300)) tenant.softDeleteUser(id);
    for (const id of enabled.slice(300, 350)) tenant.hardDeleteUser(id);
    for (let i = 0; i < 100; i += 1) tenant.addUser({ userPrincipalName: `new${i}@${tenant.domain}` });
    const newcomers = [...tenant.users.keys()].slice(-50);
    for (const [i, id] of newcomers.entries()) tenant.addMember(groupIds[i % groupIds.length]!, id);

    const next = await deltaPull(config, deps, links(initial));
    expect(next.full).toBe(false);
    expect(next.calls).toBe(fake.calls.graph - before);
    expect(next.calls).toBeLessThanOrEqual(20);
    expect(next.changedUsers).toHaveLength(100 + 150 + 100);
    expect(next.removedUsers).toHaveLength(100);
    expect(next.changedUsers.filter((u) => !u.active)).toHaveLength(100);
    expect(next.addedMemberships).toHaveLength(50);
    // the hard-deleted users left their groups; soft-deleted ones keep memberships, as in Entra
    const hardDeleted = new Set(enabled.slice(300, 350));
    expect(next.removedMemberships.every((e) => hardDeleted.has(e.memberSourceId))).toBe(true);
    expect(next.removedMemberships.length).toBeGreaterThan(0);

    const quiet = await deltaPull(config, deps, links(next));
    expect(quiet).toMatchObject({ changedUsers: [], removedUsers: [], changedGroups: [], addedMemberships: [], removedMemberships: [] });
  });

  it("maps a user to a SCIM User and reports accountEnabled=false, soft and hard deletes", async () => {
    const tenant = new FakeTenant();
    const alice = tenant.addUser({ userPrincipalName: "alice@contoso.com", mail: "alice@contoso.com", givenName: "Alice",
      surname: "Anders", displayName: "Alice Anders", department: "Engineering", employeeId: "E-17" });
    const bob = tenant.addUser({ userPrincipalName: "bob@contoso.com" });
    const carol = tenant.addUser({ userPrincipalName: "carol@contoso.com" });
    const dave = tenant.addUser({ userPrincipalName: "dave@contoso.com", mail: null });
    fake = await startGraphFake({ tenant });
    const initial = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    expect(initial.changedUsers.find((u) => u.sourceId === alice.id)).toEqual({
      sourceId: alice.id, userName: "alice@contoso.com", email: "alice@contoso.com", displayName: "Alice Anders", active: true,
      resource: {
        userName: "alice@contoso.com", name: { givenName: "Alice", familyName: "Anders" }, displayName: "Alice Anders",
        emails: [{ value: "alice@contoso.com", primary: true, type: "work" }], active: true, userType: "Member",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { department: "Engineering", employeeNumber: "E-17" },
      },
    });
    expect(initial.changedUsers.find((u) => u.sourceId === dave.id)).toMatchObject({ email: null, resource: { emails: [] } });

    tenant.updateUser(alice.id, { accountEnabled: false });
    tenant.softDeleteUser(bob.id);
    tenant.hardDeleteUser(carol.id);
    const next = await deltaPull(configFor(fake), depsFor(fake), links(initial));
    expect(next.changedUsers).toHaveLength(1);
    // a changed user arrives whole (all selected properties), not just the flag that changed
    expect(next.changedUsers[0]).toMatchObject({ sourceId: alice.id, active: false, userName: "alice@contoso.com", displayName: "Alice Anders" });
    expect(next.removedUsers).toEqual(expect.arrayContaining([{ sourceId: bob.id, reason: "changed" }, { sourceId: carol.id, reason: "deleted" }]));
    expect(next.removedUsers).toHaveLength(2);

    tenant.restoreUser(bob.id);
    const restored = await deltaPull(configFor(fake), depsFor(fake), links(next));
    expect(restored.changedUsers.map((u) => u.sourceId)).toEqual([bob.id]);
    expect(restored.removedUsers).toEqual([]);
  });

  it("turns members@delta into added and removed memberships, nested groups and a cycle included", async () => {
    const tenant = new FakeTenant();
    const [u1, u2, u3] = ["u1", "u2", "u3"].map((n) => tenant.addUser({ userPrincipalName: `${n}@contoso.com` }));
    const [a, b, c] = ["a", "b", "c"].map((n) => tenant.addGroup({ displayName: `group-${n}` }));
    tenant.addMember(a!.id, u1!.id);
    tenant.addMember(a!.id, b!.id);
    tenant.addMember(b!.id, c!.id);
    tenant.addMember(c!.id, a!.id); // a cycle: a → b → c → a
    tenant.addMember(b!.id, u2!.id);
    fake = await startGraphFake({ tenant });
    const initial = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    expect(edgeKeys(initial.addedMemberships)).toEqual([
      `${a!.id}>${b!.id}:Group`, `${a!.id}>${u1!.id}:User`, `${b!.id}>${c!.id}:Group`, `${b!.id}>${u2!.id}:User`, `${c!.id}>${a!.id}:Group`,
    ].sort());

    tenant.removeMember(a!.id, u1!.id);
    tenant.addMember(a!.id, u3!.id);
    tenant.removeMember(c!.id, a!.id);
    tenant.updateGroup(b!.id, { displayName: "group-b-renamed" });
    const next = await deltaPull(configFor(fake), depsFor(fake), links(initial));
    expect(edgeKeys(next.addedMemberships)).toEqual([`${a!.id}>${u3!.id}:User`]);
    expect(edgeKeys(next.removedMemberships)).toEqual([`${a!.id}>${u1!.id}:User`, `${c!.id}>${a!.id}:Group`].sort());
    expect(next.changedGroups.map((g) => [g.sourceId, g.displayName]).sort()).toEqual(
      [[a!.id, "group-a"], [b!.id, "group-b-renamed"], [c!.id, "group-c"]].sort());

    tenant.softDeleteGroup(c!.id);
    tenant.hardDeleteGroup(b!.id);
    const gone = await deltaPull(configFor(fake), depsFor(fake), links(next));
    expect([...gone.removedGroupSourceIds].sort()).toEqual([b!.id, c!.id].sort());
    expect(edgeKeys(gone.removedMemberships)).toEqual([`${a!.id}>${b!.id}:Group`]);
  });

  it("merges a large group split over several pages into one set of memberships", async () => {
    const tenant = new FakeTenant();
    const group = tenant.addGroup({ displayName: "all-staff" });
    for (let i = 0; i < 1_050; i += 1) tenant.addMember(group.id, tenant.addUser({ userPrincipalName: `u${i}@contoso.com` }).id);
    fake = await startGraphFake({ tenant, membersPerEntry: 100, pageSize: { groups: 3 } });
    const pull = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    expect(fake.calls.path("/v1.0/groups/delta")).toBe(4); // 11 entries of ≤100 members, 3 per page
    expect(pull.changedGroups.map((g) => g.displayName)).toEqual(["all-staff"]);
    expect(new Set(pull.addedMemberships.map((e) => e.memberSourceId)).size).toBe(1_050);
  });

  it("absorbs a replayed page and a replayed round: same result, nothing counted twice", async () => {
    const { tenant, userIds } = generateTenant({ seed: 3, users: 450, groups: 12, memberships: 600 });
    fake = await startGraphFake({ tenant, pageSize: { users: 100, groups: 5 } });
    const plain = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    fake.knobs.replayFirstPage = true;
    const replayed = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    expect(replayed.calls).toBe(plain.calls + 2); // users and groups each served their first page twice
    expect(replayed.changedUsers).toEqual(plain.changedUsers);
    expect(replayed.addedMemberships).toEqual(plain.addedMemberships);

    fake.knobs.replayFirstPage = false;
    tenant.updateUser(userIds[0]!, { accountEnabled: false });
    const once = await deltaPull(configFor(fake), depsFor(fake), links(plain));
    const again = await deltaPull(configFor(fake), depsFor(fake), links(plain)); // the same deltaLink used twice
    expect(again.changedUsers).toEqual(once.changedUsers);
    expect(once.changedUsers.map((u) => [u.sourceId, u.active])).toEqual([[userIds[0], false]]);
  });

  it("keeps only the groups in groupFilter, with their memberships", async () => {
    const { tenant, groupIds } = generateTenant({ seed: 11, users: 100, groups: 10, memberships: 300 });
    fake = await startGraphFake({ tenant });
    const scope = groupIds.slice(0, 2);
    const pull = await deltaPull(configFor(fake, { groupFilter: scope }), depsFor(fake), NO_LINKS);
    expect(pull.changedGroups.map((g) => g.sourceId).sort()).toEqual([...scope].sort());
    expect(pull.addedMemberships.every((e) => scope.includes(e.groupSourceId))).toBe(true);
    expect(pull.changedUsers).toHaveLength(100);
  });
});
