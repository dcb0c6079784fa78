import { expect, test } from "vitest";
import { projectAttributes } from "../../src/sources/scim/resources/attribute-projection.ts";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const user = {
  schemas: [CORE, ENT], id: "u1", meta: { resourceType: "User" }, userName: "a@x", name: { givenName: "A", familyName: "B" },
  emails: [{ type: "work", value: "a@x", primary: true }, { type: "home", value: "a@home" }],
  [ENT]: { department: "Eng", employeeNumber: "7" },
};

test("attributes keeps the named ones plus id and schemas", () => {
  expect(projectAttributes(user, CORE, ["userName", "name.givenName"])).toEqual({ schemas: [CORE, ENT], id: "u1", userName: "a@x", name: { givenName: "A" } });
});

test("a sub-attribute of a multi-valued attribute is picked from every element", () => {
  expect(projectAttributes(user, CORE, ["emails.value"]).emails).toEqual([{ value: "a@x" }, { value: "a@home" }]);
});

test("extension attributes are selected by URN, whole or one attribute", () => {
  expect(projectAttributes(user, CORE, [`${ENT}:department`])[ENT]).toEqual({ department: "Eng" });
  expect(projectAttributes(user, CORE, [ENT])[ENT]).toEqual(user[ENT]);
});

test("names are matched case-insensitively and with the core URN", () => {
  expect(projectAttributes(user, CORE, [`${CORE}:USERNAME`])).toHaveProperty("userName", "a@x");
});

test("excludedAttributes removes what it names but never id or schemas", () => {
  const out = projectAttributes(user, CORE, undefined, ["emails", "id", "schemas", `${ENT}:employeeNumber`]);
  expect(out).not.toHaveProperty("emails");
  expect(out).toHaveProperty("id", "u1");
  expect(out[ENT]).toEqual({ department: "Eng" });
  expect(user.emails).toHaveLength(2); // the input is not changed
});
