// Extensions /Schemas does not declare: split out of bodies, put back into documents, PATCHed by URN,
// URN:attribute and path-less keys, and readable by the rule filters the mapping evaluates.
import { describe, expect, test } from "vitest";
import {
  applyUndeclaredOperations, splitUndeclaredExtensions, withUndeclaredExtensions,
} from "../../src/sources/scim/resources/undeclared-extensions.ts";
import { parseUserCondition } from "../../src/mapping/user-condition.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

const ACME = "urn:example:params:scim:schemas:extension:acme:2.0:User";

describe("splitUndeclaredExtensions", () => {
  test("a whole extension object and URN-qualified attribute keys fold into one extension", () => {
    const { body, extensions } = splitUndeclaredExtensions({
      schemas: [URN.user, ACME], userName: "a", [ACME]: { costCenter: "1" }, [`${ACME}:site`]: "Berlin",
      [URN.enterprise]: { employeeNumber: "7" },
    }, "User");
    expect(body).toEqual({ schemas: [URN.user, ACME], userName: "a", [URN.enterprise]: { employeeNumber: "7" } });
    expect(extensions).toEqual({ [ACME]: { costCenter: "1", site: "Berlin" } });
  });

  test("declared URNs are matched case-insensitively and stay in the body", () => {
    const key = URN.enterprise.toUpperCase();
    expect(splitUndeclaredExtensions({ [key]: { department: "x" } }, "User").extensions).toEqual({});
  });
});

test("withUndeclaredExtensions lists exactly the extensions present in schemas", () => {
  const document = withUndeclaredExtensions({ schemas: [URN.user, "urn:typo:schema"], userName: "a" }, { [ACME]: { tier: "gold" }, "urn:empty:2.0:User": {} }, "User");
  expect(document).toEqual({ schemas: [URN.user, ACME], userName: "a", [ACME]: { tier: "gold" } });
});

describe("applyUndeclaredOperations", () => {
  test("add merges (arrays appended), replace sets, remove deletes; declared operations pass through in order", () => {
    const declared = { op: "replace", path: "displayName", value: "x" };
    const result = applyUndeclaredOperations([
      { op: "add", path: `${ACME}:tags`, value: ["b"] },
      declared,
      { op: "replace", path: `${ACME}:site`, value: "Paris" },
      { op: "remove", path: `${ACME}:costCenter` },
    ], { [ACME]: { costCenter: "1", tags: ["a"] } }, "User");
    expect(result.operations).toEqual([declared]);
    expect(result.extensions).toEqual({ [ACME]: { tags: ["a", "b"], site: "Paris" } });
    expect(result.touched).toBe(true);
  });

  test("a path-less value loses its undeclared keys; one with nothing else is dropped", () => {
    const result = applyUndeclaredOperations([
      { op: "replace", value: { [ACME]: { schemas: [ACME], tier: "gold" }, displayName: "y" } },
      { op: "add", value: { [`${ACME}:site`]: "Rome" } },
    ], {}, "User");
    expect(result.operations).toEqual([{ op: "replace", value: { displayName: "y" } }]);
    expect(result.extensions).toEqual({ [ACME]: { tier: "gold", site: "Rome" } });
  });

  test("a value filter inside an undeclared extension is a 400 invalidPath, not a silent no-op", () => {
    expect(() => applyUndeclaredOperations([{ op: "remove", path: `${ACME}:badges[id eq 1]` }], {}, "User"))
      .toThrowError(expect.objectContaining({ status: 400, scimType: "invalidPath" }));
  });
});

test("rule filters read undeclared extensions as stored", () => {
  const resource = withUndeclaredExtensions({ schemas: [URN.user], userName: "a" }, { [ACME]: { costCenter: "4711", badges: [{ kind: "Staff" }] } }, "User");
  expect(parseUserCondition(`${ACME}:costCenter eq "4711"`)(resource)).toBe(true);
  expect(parseUserCondition(`${ACME}:badges[kind eq "staff"]`)(resource)).toBe(true);
  expect(parseUserCondition(`${ACME}:costCenter eq "1"`)(resource)).toBe(false);
});
