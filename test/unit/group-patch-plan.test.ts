// Group PATCH as incremental steps: every shape Okta and Entra send, and the 400s for the rest.
import { describe, expect, test } from "vitest";
import { planGroupPatch } from "../../src/sources/scim/resources/group-patch-plan.ts";

const A = "0b7c1c1e-8b6a-4c41-9a1e-3f1a2b3c4d5e";
const B = "1c8d2d2f-9c7b-4d52-8b2f-4a2b3c4d5e6f";

const fails = (operations: unknown[], status: number, scimType: string) => {
  try {
    planGroupPatch(operations as never);
  } catch (error) {
    expect(error).toMatchObject({ status, scimType });
    return;
  }
  throw new Error("expected a ScimError");
};

describe("membership shapes", () => {
  test("Entra adds several members with null $ref in one op", () => {
    expect(planGroupPatch([{ op: "add", path: "members", value: [{ $ref: null, value: A }, { value: B }] }]))
      .toEqual([{ kind: "addMembers", members: [{ value: A, display: null }, { value: B, display: null }] }]);
  });
  test("Entra removes members with a value list", () => {
    expect(planGroupPatch([{ op: "remove", path: "members", value: [{ value: A }] }])).toEqual([{ kind: "removeMembers", memberIds: [A] }]);
  });
  test("Okta removes by filter and adds in the same request, in order", () => {
    expect(planGroupPatch([
      { op: "remove", path: `members[value eq "${A}"]` },
      { op: "add", path: "members", value: [{ value: B, display: "b@x" }] },
    ])).toEqual([{ kind: "removeMembers", memberIds: [A] }, { kind: "addMembers", members: [{ value: B, display: "b@x" }] }]);
  });
  test("a filter joined by or selects several members", () => {
    expect(planGroupPatch([{ op: "remove", path: `members[value eq "${A}" or value eq "${B}"]` }])).toEqual([{ kind: "removeMembers", memberIds: [A, B] }]);
  });
  test("remove members without a value empties the group", () => {
    expect(planGroupPatch([{ op: "remove", path: "members" }])).toEqual([{ kind: "removeAllMembers" }]);
  });
  test("replace members sets the whole list", () => {
    expect(planGroupPatch([{ op: "replace", path: "members", value: [{ value: A }] }])).toEqual([{ kind: "replaceMembers", members: [{ value: A, display: null }] }]);
  });
  test("member ids are matched lower-cased", () => {
    expect(planGroupPatch([{ op: "add", path: "members", value: [{ value: A.toUpperCase() }] }])).toEqual([{ kind: "addMembers", members: [{ value: A, display: null }] }]);
  });
});

describe("attribute shapes", () => {
  test("Okta renames with a path-less value that carries the read-only id", () => {
    expect(planGroupPatch([{ op: "replace", value: { id: A, displayName: "Renamed", schemas: [] } }])).toEqual([{ kind: "setAttributes", displayName: "Renamed" }]);
  });
  test("path-less members and externalId", () => {
    expect(planGroupPatch([{ op: "add", value: { members: [{ value: A }], externalId: "ext-1" } }]))
      .toEqual([{ kind: "addMembers", members: [{ value: A, display: null }] }, { kind: "setAttributes", externalId: "ext-1" }]);
  });
  test("Entra replaces displayName and adds externalId by path, URN-qualified or not", () => {
    expect(planGroupPatch([
      { op: "replace", path: "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", value: "New" },
      { op: "add", path: "externalId", value: "x" },
      { op: "remove", path: "externalId" },
    ])).toEqual([{ kind: "setAttributes", displayName: "New" }, { kind: "setAttributes", externalId: "x" }, { kind: "setAttributes", externalId: null }]);
  });
});

describe("what is refused", () => {
  test("an unknown attribute is invalidPath", () => fails([{ op: "replace", path: "description", value: "x" }], 400, "invalidPath"));
  test("an unknown path-less key is invalidPath", () => fails([{ op: "replace", value: { owner: "x" } }], 400, "invalidPath"));
  test("removing the required displayName is mutability", () => fails([{ op: "remove", path: "displayName" }], 400, "mutability"));
  test("a path-less remove is noTarget", () => fails([{ op: "remove" }], 400, "noTarget"));
  test("a member id that is not a UUID is invalidValue", () => fails([{ op: "add", path: "members", value: [{ value: "bob" }] }], 400, "invalidValue"));
  test("a member filter on another attribute is matched against the stored members", () => {
    const [step] = planGroupPatch([{ op: "remove", path: 'members[display eq "x"]' }]);
    expect(step?.kind).toBe("removeMembersMatching");
  });
  test("remove members with an empty value list empties the group", () => {
    expect(planGroupPatch([{ op: "remove", path: "members", value: [] }])).toEqual([{ kind: "removeAllMembers" }]);
  });
  test("a filter that does not parse is invalidPath", () => fails([{ op: "remove", path: 'members[display eq ]' }], 400, "invalidPath"));
  test("an empty displayName is invalidValue", () => fails([{ op: "replace", path: "displayName", value: " " }], 400, "invalidValue"));
});
