// A rule's filter over an IdP user's stored resource: the walk idsync does itself (for speed over a large
// account) must answer as the library's own walk, with SCIM's case-insensitive names and string values.
import { describe, expect, test } from "vitest";
import { parse, Tester } from "scim2-parse-filter";
import { CaseInsensitiveTester, parseUserCondition } from "../../src/mapping/user-condition.ts";

/** The library's own walk, with SCIM's case-insensitive comparisons as idsync's: the reference. */
const reference = new CaseInsensitiveTester();

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const ann = {
  userName: "ann@example.com", active: true, title: "",
  name: { givenName: "Ann", familyName: "Lee" },
  emails: [{ value: "ann@example.com", type: "work" }, { value: "ann@home.example.org", type: "home" }],
  [ENT.toLowerCase()]: { Department: "Support", manager: { value: "bob" } },
  Roles: [],
};

describe("a filter over a stored resource", () => {
  test.each([
    ['userName eq "ANN@example.com"', true],
    ['USERNAME eq "ann@example.com"', true],
    ['name.givenName sw "an"', true],
    ['name.familyName ew "x"', false],
    ['emails.value co "home"', true],
    ['emails[type eq "work" and value ew "@example.com"]', true],
    ['emails[type eq "other"]', false],
    [`${ENT}:department eq "support"`, true],
    [`${ENT}:manager.value eq "BOB"`, true],
    [`${ENT}:costCenter pr`, false],
    ["title pr", false],
    ["roles pr", false],
    ["nickName pr", false],
    ['not (userName eq "bob@example.com")', true],
    ['active eq true and (name.givenName eq "bob" or emails.type eq "home")', true],
    // the library applies a bracket's conditions to the elements one by one: kept as it was
    ['emails[type eq "home" and value ew "@example.com"]', true],
  ])("%s → %s, as the library's walk answers", (filter, expected) => {
    expect(parseUserCondition(filter)(ann)).toBe(expected);
    expect(reference.test(ann, parse(filter))).toBe(expected);
  });

  test("the first key that matches ignoring case is the one read, as the library reads it", () => {
    const twice = { Department: "Support", department: "Sales" };
    expect(parseUserCondition('department eq "support"')(twice)).toBe(true);
    expect(parseUserCondition('department eq "sales"')(twice)).toBe(false);
    expect(reference.test(twice, parse('department eq "sales"'))).toBe(false);
  });

  test("a path through a scalar or a missing object matches nothing", () => {
    expect(parseUserCondition('userName.value eq "ann@example.com"')(ann)).toBe(false);
    expect(parseUserCondition('addresses.locality eq "Paris"')(ann)).toBe(false);
  });
});
