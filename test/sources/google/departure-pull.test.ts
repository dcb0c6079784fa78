// The frequent departure check reads only who is suspended, archived or deleted now: three
// single-page listings for a normal directory, whatever its size.
import { expect, test } from "vitest";
import { departurePull } from "../../../src/sources/google/departure-pull.ts";
import { IncompletePullError } from "../../../src/sources/pull-errors.ts";
import { buildSampleDirectory } from "../../fakes/google/sample-directory.ts";
import { connectionFor, startFake, testDeps } from "./google-test-kit.ts";

test("suspended, archived and deleted users in at most five calls", async () => {
  const directory = buildSampleDirectory({ users: 3000, groups: 5, memberships: 100, seed: 11 });
  directory.users[1590]!.suspended = true; // 1590 = 30 × 53: suspended and archived, reported once
  const fake = await startFake(directory);
  try {
    const pull = await departurePull(connectionFor(fake), testDeps());
    expect(pull.calls).toBeLessThanOrEqual(5);
    expect(pull.calls).toBe(fake.calls.api);
    expect(fake.requests.map((r) => r.query.query ?? (r.query.showDeleted ? "showDeleted" : ""))).toEqual(["isSuspended=true", "isArchived=true", "showDeleted"]);
    const inactive = directory.users.filter((u) => !u.deletionTime && (u.suspended || u.archived)).map((u) => u.id).sort();
    expect(pull.inactiveUsers.map((u) => u.sourceId).sort()).toEqual(inactive);
    expect(pull.inactiveUsers.every((u) => !u.active && u.resource.active === false)).toBe(true);
    expect(pull.deletedUserSourceIds.slice().sort()).toEqual(directory.users.filter((u) => u.deletionTime).map((u) => u.id).sort());
  } finally {
    await fake.close();
  }
});

test("nobody departed: the omitted `users` key means none", async () => {
  const directory = buildSampleDirectory({ users: 20, groups: 1, memberships: 5 });
  for (const user of directory.users) { delete user.suspended; delete user.archived; delete user.deletionTime; }
  const fake = await startFake(directory);
  try {
    const pull = await departurePull(connectionFor(fake), testDeps());
    expect(pull).toEqual({ inactiveUsers: [], deletedUserSourceIds: [], calls: 3 });
  } finally {
    await fake.close();
  }
});

test("a broken page chain fails the check instead of reporting fewer departures", async () => {
  const fake = await startFake(buildSampleDirectory({ users: 100, groups: 1, memberships: 5 }));
  try {
    fake.knobs.fail("users", "truncatedChain");
    await expect(departurePull(connectionFor(fake), testDeps())).rejects.toBeInstanceOf(IncompletePullError);
  } finally {
    await fake.close();
  }
});
