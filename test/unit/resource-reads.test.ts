// Which core attributes of a stored resource the rules read: the loader leaves out the others, so this
// must never leave out one a rule's filter, app role, entitlement or attributes rule looks at.
import { expect, test } from "vitest";
import { coreAttributesUnread } from "../../src/mapping/resource-reads.ts";
import { attributesRead, parseUserCondition } from "../../src/mapping/user-condition.ts";
import { DEFAULT_POLICY, type MappingRule, type MappingRules } from "../../src/mapping/mapping-rules.ts";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const rules = (list: Array<Partial<MappingRule>>): MappingRules => ({
  defaultRole: "none", policy: DEFAULT_POLICY, rules: list.map((r, i) => ({ name: `r${i}`, line: i + 1, domains: [], ...r })),
});

test("a filter reads the top-level names of every comparison in it, ignoring case, URN paths by their schema", () => {
  expect([...attributesRead(`Emails[type eq "work"] and not (name.givenName sw "A" or ${ENT}:department eq "x") or title pr`)].sort())
    .toEqual(["emails", "name", ENT.toLowerCase(), "title"].sort());
});

test("only core attributes no rule reads are left out; group rules read none", () => {
  const unread = coreAttributesUnread(rules([{ group: "Admins" }, { filter: 'EMAILS.value ew "@example.com"' }, { appRole: "Admin" }]));
  expect(unread).not.toContain("emails");
  expect(unread).not.toContain("roles");
  expect(unread).toContain("entitlements");
  expect(unread).toContain("userName");
  expect(coreAttributesUnread(rules([{ attributes: true }]))).not.toContain("entitlements");
  expect(coreAttributesUnread(rules([{ entitlement: "x:read" }]))).not.toContain("entitlements");
});

test("a filter answers the same over the resource without the attributes left out", () => {
  const resource: Record<string, unknown> = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENT], userName: "ann@example.com", displayName: "Ann", active: true,
    emails: [{ value: "ann@example.com", type: "work" }], name: { givenName: "Ann" }, [ENT]: { department: "Support" },
  };
  for (const filter of [`${ENT}:department eq "support"`, 'emails[type eq "work"]', 'name.givenName eq "ann" and userName pr', "title pr"]) {
    const unread = new Set(coreAttributesUnread(rules([{ filter }])));
    const kept = Object.fromEntries(Object.entries(resource).filter(([key]) => !unread.has(key)));
    expect(parseUserCondition(filter)(kept)).toBe(parseUserCondition(filter)(resource));
  }
});
