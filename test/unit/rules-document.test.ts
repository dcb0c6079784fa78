import fs from "node:fs";
import { describe, expect, test } from "vitest";
import { parseRulesDocument, RulesDocumentError } from "../../src/mapping/rules-document.ts";

const problems = (text: string) => {
  try {
    parseRulesDocument(text);
  } catch (error) {
    if (error instanceof RulesDocumentError) return error.problems;
    throw error;
  }
  throw new Error("expected the document to be refused");
};

test("the example in config/ is valid and reads as written", () => {
  const rules = parseRulesDocument(fs.readFileSync("config/rules.example.yaml", "utf8"));
  expect(rules.defaultRole).toBe("none");
  expect(rules.policy).toEqual({ ownerSuccessor: "cto@example.com", orgKeys: "revoke", removalBrake: { minimum: 10, percent: 10, windowMinutes: 15 }, retentionDays: 30, linkByEmail: false });
  expect(rules.rules.map((r) => r.name)).toEqual(["owners", "platform-admins", "developers", "support", "from-idp-attributes"]);
  expect(rules.rules[2]).toMatchObject({ group: "Developers", role: "member", line: 24,
    domains: [{ pattern: "example.com", access: "read" }, { pattern: "*.staging.example.com", access: "write" }] });
});

test("JSON documents are accepted too", () => {
  const rules = parseRulesDocument(JSON.stringify({ version: 1, default: "member", rules: [{ group: "Eng", role: "admin" }] }));
  expect(rules.defaultRole).toBe("member");
  expect(rules.rules[0]).toMatchObject({ name: "rule 1", group: "Eng", role: "admin" });
});

test("an empty rule list is valid and grants nothing", () => {
  expect(parseRulesDocument("version: 1\nrules: []\n").rules).toEqual([]);
});

describe("errors name the line and the problem", () => {
  test("an unknown role", () => {
    expect(problems("version: 1\nrules:\n  - group: Eng\n    role: superuser\n")).toEqual([{ line: 4, message: expect.stringContaining('role must be owner, admin or member, not "superuser"') }]);
  });
  test("a rule with two selectors", () => {
    expect(problems("version: 1\nrules:\n  - group: Eng\n    filter: 'title eq \"x\"'\n    role: member\n")[0]).toMatchObject({ line: 3, message: expect.stringContaining("exactly one of group, filter") });
  });
  test("a filter that does not parse", () => {
    expect(problems("version: 1\nrules:\n  - filter: 'department eq'\n    role: member\n")[0]).toMatchObject({ line: 3, message: expect.stringContaining("not valid SCIM filter syntax") });
  });
  test("a bad access level and a bad domain", () => {
    const found = problems("version: 1\nrules:\n  - group: Eng\n    role: member\n    domains:\n      example.com: admin\n      'not a domain': read\n");
    expect(found.map((p) => p.line)).toEqual([6, 7]);
  });
  test("a misspelt key", () => {
    expect(problems("version: 1\nrules:\n  - group: Eng\n    rol: admin\n").map((p) => p.message)).toContainEqual(expect.stringContaining('unknown key "rol"'));
  });
  test("a rule that grants nothing", () => {
    expect(problems("version: 1\nrules:\n  - group: Eng\n")[0]!.message).toContain("grants nothing");
  });
  test("a duplicated rule name", () => {
    expect(problems("version: 1\nrules:\n  - {name: a, group: X, role: member}\n  - {name: a, group: Y, role: member}\n")[0]).toMatchObject({ line: 4, message: expect.stringContaining("used twice") });
  });
  test("a missing version and broken YAML", () => {
    expect(problems("rules: []\n")[0]!.message).toContain("version must be 1");
    expect(problems("version: 1\nrules: [\n")[0]!.line).toBeGreaterThanOrEqual(2);
  });
  test("policy values out of range", () => {
    const found = problems("version: 1\npolicy:\n  org_keys: keep\n  retention_days: -1\n  owner_successor: nobody\n");
    expect(found.map((p) => p.line)).toEqual([3, 4, 5]);
  });
});

describe("app_role and entitlement rules (Entra app roles, Okta entitlements)", () => {
  test("app_role and entitlement are first-class keys; a published name grants itself", () => {
    const parsed = parseRulesDocument(`version: 1
rules:
  - name: entra-admins
    app_role: Admin
  - name: mail-writers
    entitlement: "mail.acme.com:write"
  - name: support
    app_role: Support.Agent
    role: member
    domains:
      news.acme.com: read
`);
    expect(parsed.rules).toEqual([
      { name: "entra-admins", line: 3, appRole: "Admin", role: "admin", domains: [] },
      { name: "mail-writers", line: 5, entitlement: "mail.acme.com:write", domains: [{ pattern: "mail.acme.com", access: "write" }] },
      { name: "support", line: 7, appRole: "Support.Agent", role: "member", domains: [{ pattern: "news.acme.com", access: "read" }] },
    ]);
  });

  test("bad keys and values are refused with their line", () => {
    expect(problems(`version: 1
rules:
  - name: typo
    app_roles: Admin
    role: admin
  - name: two-selectors
    app_role: Admin
    group: Admins
    role: admin
  - name: empty
    entitlement: ""
    role: member
  - name: nothing
    app_role: Support.Agent
  - name: nothing-either
    entitlement: "mail.acme.com:owner"
`)).toEqual([
      { line: 3, message: `rule "typo" needs exactly one of group, filter, app_role, entitlement or attributes: true` },
      { line: 4, message: `unknown key "app_roles" in rule 1 (expected name, group, filter, attributes, app_role, entitlement, role, domains)` },
      { line: 6, message: `rule "two-selectors" needs exactly one of group, filter, app_role, entitlement or attributes: true` },
      { line: 11, message: `rule "empty": entitlement must be the value the IdP sends, as text` },
      { line: 13, message: `rule "nothing" grants nothing: give it a role and/or domains (or name owner, admin or member as the app role)` },
      { line: 15, message: `rule "nothing-either" grants nothing: give it a role and/or domains (or name <domain>:read or <domain>:write as the entitlement)` },
    ]);
  });
});
