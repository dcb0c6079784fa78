// A pull limited to the groups rules name (groupEmails) or match (groupQuery) still hands over the
// sub-groups those reach, level by level and cycle-safe, so the mapping stage can close over them;
// named groups that are gone or another organisation's are left out.
import { expect, test } from "vitest";
import { fullPull } from "../../../src/sources/google/full-pull.ts";
import { buildSampleDirectory, sampleGroupId } from "../../fakes/google/sample-directory.ts";
import { connectionFor, startFake, testDeps } from "./google-test-kit.ts";

test("groupEmails: named groups by email or alias, plus every sub-group they reach", async () => {
  const fake = await startFake(buildSampleDirectory({ users: 50, groups: 8, memberships: 80, seed: 2 }));
  try {
    const config = connectionFor(fake, { groupEmails: ["group0@example.com", "g6@example.com", "gone@example.com", "team@other.org"] });
    const pull = await fullPull(config, testDeps());
    // 0 reaches 1 and 3, 1 reaches 2, 2 reaches 0 again (cycle): 0,1,2,3 and 6
    expect(pull.groups.map((g) => g.sourceId).sort()).toEqual([0, 1, 2, 3, 6].map(sampleGroupId).sort());
    expect(fake.requests.some((r) => r.path.endsWith("/groups"))).toBe(false);
    const groupEdges = pull.memberships.filter((m) => m.memberType === "Group").map((m) => `${m.groupSourceId}>${m.memberSourceId}`).sort();
    expect(groupEdges).toEqual([[0, 1], [1, 2], [2, 0], [0, 3]].map(([a, b]) => `${sampleGroupId(a!)}>${sampleGroupId(b!)}`).sort());
    // each group's members read once: 5 members.list + 4 named groups.get + 3 sub-group groups.get + 2 users listings
    expect(fake.calls.matching("members")).toBe(5);
    expect(pull.calls).toBe(5 + 4 + 3 + 2);
    expect(pull.calls).toBe(fake.calls.api);
  } finally {
    await fake.close();
  }
});

test("groupQuery: groups.list with the query", async () => {
  const fake = await startFake(buildSampleDirectory({ users: 20, groups: 15, memberships: 30, seed: 4 }));
  try {
    const pull = await fullPull(connectionFor(fake, { groupQuery: "email:group1*" }), testDeps());
    expect(fake.requests.find((r) => r.path.endsWith("/groups"))!.query.query).toBe("email:group1*");
    // group1, group10..14, and group2 reached from group1 (then group0, group3 through the cycle)
    expect(pull.groups.map((g) => g.displayName).sort()).toEqual(
      ["Group 0", "Group 1", "Group 10", "Group 11", "Group 12", "Group 13", "Group 14", "Group 2", "Group 3"]);
  } finally {
    await fake.close();
  }
});
