// The full pull against the fake with the real @googleapis/admin client: every page read with the
// largest page size, only the needed fields asked for, each user in its state, nesting handed over
// as Group memberships (cycles included), CUSTOMER expanded, external members skipped, and a call
// count that is both exact and the minimum the page sizes allow.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FullPull } from "../../../src/snapshot/pulled-directory.ts";
import { fullPull } from "../../../src/sources/google/full-pull.ts";
import { renderMembers, type FakeDirectory } from "../../fakes/google/fake-directory.ts";
import type { GoogleFake } from "../../fakes/google/google-fake.ts";
import { buildSampleDirectory, EXTERNAL_MEMBER, sampleGroupId, sampleUserId } from "../../fakes/google/sample-directory.ts";
import { connectionFor, startFake, testDeps } from "./google-test-kit.ts";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USERS = 1234;
const GROUPS = 12;
let directory: FakeDirectory;
let fake: GoogleFake;
let pull: FullPull;

/** Fewest calls the page sizes allow: users 500, groups and members 200, one call for an empty listing. */
function minimumCalls(dir: FakeDirectory): number {
  const live = dir.users.filter((u) => !u.deletionTime).length;
  const deleted = dir.users.length - live;
  const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
  return pages(live, 500) + pages(deleted, 500) + pages(dir.groups.length, 200)
    + dir.groups.reduce((sum, g) => sum + pages(renderMembers(dir, g.id).length, 200), 0);
}

beforeAll(async () => {
  directory = buildSampleDirectory({ users: USERS, groups: GROUPS, memberships: 900, seed: 7 });
  // one group large enough to need three member pages
  const big = directory.members.get(sampleGroupId(4))!;
  const present = new Set(big.map((m) => m.id));
  for (const user of directory.users.filter((u) => !u.deletionTime && !present.has(u.id)).slice(0, 450)) big.push({ id: user.id, type: "USER" });
  fake = await startFake(directory, { latencyMs: 2 });
  pull = await fullPull(connectionFor(fake, { concurrency: 4 }), testDeps());
});

afterAll(async () => {
  await fake.close();
});

describe("paging and fields", () => {
  test("1,234 users arrive in three users.list calls of maxResults 500", () => {
    const pages = fake.requests.filter((r) => r.path.endsWith("/users") && !r.query.showDeleted);
    expect(pages.map((r) => r.query.maxResults)).toEqual(["500", "500", "500"]);
    expect(pages[0]!.query.pageToken).toBeUndefined();
    expect(new Set(pages.slice(1).map((r) => r.query.pageToken)).size).toBe(2);
    expect(pull.users).toHaveLength(directory.users.filter((u) => !u.deletionTime).length);
    expect(new Set(pull.users.map((u) => u.sourceId)).size).toBe(pull.users.length);
  });

  test("only the fields the mapping reads are requested", () => {
    const users = fake.requests.find((r) => r.path.endsWith("/users"))!;
    expect(users.query.fields).toMatch(/^nextPageToken,users\(id,primaryEmail,name\(/);
    expect(users.query.fields).toContain("suspended,archived");
    expect(fake.requests.find((r) => r.query.showDeleted)!.query.fields).toBe("nextPageToken,users(id)");
    expect(fake.requests.find((r) => r.path.endsWith("/groups"))!.query).toMatchObject({ maxResults: "200", fields: "nextPageToken,groups(id,email,name,description,directMembersCount)" });
    for (const members of fake.requests.filter((r) => r.path.endsWith("/members"))) {
      expect(members.query).toMatchObject({ maxResults: "200", fields: "nextPageToken,members(id,email,type,status)" });
    }
  });

  test("a group of 450+ members is read in three members.list pages", () => {
    const reads = fake.requests.filter((r) => r.path.endsWith(`/groups/${sampleGroupId(4)}/members`));
    expect(reads).toHaveLength(3);
    const members = pull.memberships.filter((m) => m.groupSourceId === sampleGroupId(4) && m.memberType === "User");
    expect(members.length).toBe(renderMembers(directory, sampleGroupId(4)).filter((m) => m.type === "USER").length);
  });

  test("calls are exact (retries none here) and the minimum the page sizes allow", () => {
    expect(pull.calls).toBe(fake.calls.api);
    expect(pull.calls).toBe(minimumCalls(directory));
    expect(fake.calls.matching("token")).toBe(0);
  });

  test("members.list runs at most `concurrency` requests at once", () => {
    expect(fake.calls.maxConcurrent).toBeLessThanOrEqual(4);
    expect(fake.calls.maxConcurrent).toBeGreaterThan(1);
  });
});

describe("users", () => {
  test("a user becomes a SCIM User document keyed on the Google id", () => {
    const source = directory.users[1]!;
    const user = pull.users.find((u) => u.sourceId === sampleUserId(1))!;
    expect(user).toEqual({
      sourceId: sampleUserId(1), userName: source.primaryEmail, email: source.primaryEmail,
      displayName: `${source.givenName} ${source.familyName}`, active: true,
      resource: {
        userName: source.primaryEmail,
        name: { givenName: source.givenName, familyName: source.familyName },
        displayName: `${source.givenName} ${source.familyName}`,
        emails: [{ value: source.primaryEmail, primary: true, type: "work" }],
        active: true,
        [ENTERPRISE]: { department: source.department, employeeNumber: source.employeeId },
      },
    });
  });

  test("suspended and archived users are listed inactive; deleted ones only as deleted ids", () => {
    const byId = new Map(pull.users.map((u) => [u.sourceId, u]));
    expect(byId.get(sampleUserId(31))?.active).toBe(false);
    expect(byId.get(sampleUserId(53))?.active).toBe(false);
    expect(byId.get(sampleUserId(47))).toBeUndefined();
    expect(pull.deletedUserSourceIds).toContain(sampleUserId(47));
    expect(pull.deletedUserSourceIds).toHaveLength(directory.users.filter((u) => u.deletionTime).length);
    expect(pull.users.filter((u) => !u.active)).toHaveLength(directory.users.filter((u) => !u.deletionTime && (u.suspended || u.archived)).length);
  });
});

describe("memberships", () => {
  const has = (group: number, member: string, memberType: "User" | "Group") =>
    pull.memberships.some((m) => m.groupSourceId === sampleGroupId(group) && m.memberSourceId === member && m.memberType === memberType);

  test("nested groups, cycle included, are direct Group memberships, not flattened", () => {
    expect(has(0, sampleGroupId(1), "Group")).toBe(true);
    expect(has(1, sampleGroupId(2), "Group")).toBe(true);
    expect(has(2, sampleGroupId(0), "Group")).toBe(true);
    expect(has(0, sampleGroupId(3), "Group")).toBe(true);
    expect(pull.memberships.filter((m) => m.memberType === "Group")).toHaveLength(4);
    // group 1's users are not copied into group 0
    const g1Users = pull.memberships.filter((m) => m.groupSourceId === sampleGroupId(1) && m.memberType === "User").map((m) => m.memberSourceId);
    const g0Direct = new Set((directory.members.get(sampleGroupId(0)) ?? []).map((m) => m.id));
    expect(g1Users.filter((id) => !g0Direct.has(id)).some((id) => has(0, id, "User"))).toBe(false);
  });

  test("a CUSTOMER member stands for every active user", () => {
    const last = sampleGroupId(GROUPS - 1);
    const members = new Set(pull.memberships.filter((m) => m.groupSourceId === last).map((m) => m.memberSourceId));
    for (const user of pull.users.filter((u) => u.active)) expect(members.has(user.sourceId)).toBe(true);
    expect(members.has(directory.customerId)).toBe(false);
  });

  test("external members are skipped; suspended members stay (their user is inactive)", () => {
    expect(pull.memberships.some((m) => m.memberSourceId === EXTERNAL_MEMBER.id)).toBe(false);
    const suspendedMember = [...directory.members].flatMap(([groupId, rows]) => rows.map((r) => ({ groupId, id: r.id })))
      .find((r) => directory.users.find((u) => u.id === r.id)?.suspended && !directory.users.find((u) => u.id === r.id)?.deletionTime);
    expect(suspendedMember).toBeDefined();
    expect(pull.memberships.some((m) => m.groupSourceId === suspendedMember!.groupId && m.memberSourceId === suspendedMember!.id)).toBe(true);
  });

  test("every membership references a user or group the pull hands over, once", () => {
    const users = new Set(pull.users.map((u) => u.sourceId));
    const groups = new Set(pull.groups.map((g) => g.sourceId));
    for (const m of pull.memberships) {
      expect(groups.has(m.groupSourceId)).toBe(true);
      expect((m.memberType === "User" ? users : groups).has(m.memberSourceId)).toBe(true);
    }
    expect(new Set(pull.memberships.map((m) => `${m.groupSourceId}|${m.memberSourceId}`)).size).toBe(pull.memberships.length);
    expect(pull.groups).toHaveLength(GROUPS);
  });
});
