// Roles and entitlements an IdP assigns (core `roles`, `entitlements`) feed the mapping with the same
// precedence as every other way a role arrives: the highest wins (owner > admin > member), write beats
// read. Pure: rules over plain snapshots, no database.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { desiredState, IDSYNC_EXTENSION } from "../../src/mapping/desired-state.ts";
import { DEFAULT_POLICY, ROLE_RANK, type MappingRule, type MappingRules, type Role } from "../../src/mapping/mapping-rules.ts";
import { ownerCandidateSources } from "../../src/mapping/owner-candidates.ts";
import type { AccountSnapshot, SnapshotUser } from "../../src/snapshot/account-snapshot.ts";

const DOMAINS = [{ id: "d-mail", name: "mail.acme.com" }, { id: "d-news", name: "news.acme.com" }];
const ENTRA = "WindowsAzureActiveDirectoryRole";

const user = (resource: Record<string, unknown>, id = "ada"): SnapshotUser =>
  ({ id, connectionId: "c1", userName: `${id}@acme.com`, email: `${id}@acme.com`, displayName: id, active: true, deleted: false, resource });
const snapshot = (users: SnapshotUser[], groups: AccountSnapshot["groups"] = [], edges: Array<[string, string]> = []): AccountSnapshot =>
  ({ users, groups, edges: edges.map(([groupId, memberId]) => ({ groupId, memberId })) });
const rules = (list: Array<Partial<MappingRule>>): MappingRules =>
  ({ defaultRole: "none", policy: DEFAULT_POLICY, rules: list.map((r, i) => ({ name: r.name ?? `r${i}`, line: i + 1, domains: [], ...r })) });
const ada = (state: ReturnType<typeof desiredState>) => state.people.get("email:ada@acme.com")!;

describe("rules that name an app role or an entitlement", () => {
  test("an Entra app role matches ignoring case, and the plan says where the role came from", () => {
    const entra = user({ roles: [{ primary: "True", type: ENTRA, value: "Admin" }] });
    const state = desiredState(snapshot([entra]), rules([{ name: "admins", appRole: "admin", role: "admin" }]), DOMAINS);
    expect(ada(state)).toMatchObject({ state: "assigned", role: "admin", roleRule: "admins via Entra app role Admin" });
  });

  test("an entitlement gives its domain access, named as such", () => {
    const okta = user({ entitlements: [{ value: "mail.acme.com:write", type: "Domain access" }] });
    const state = desiredState(snapshot([okta]), rules([{ name: "mailers", entitlement: "MAIL.acme.com:write", domains: [{ pattern: "mail.acme.com", access: "write" }] }]), DOMAINS);
    expect(ada(state)).toMatchObject({ role: "member", grants: [{ domainId: "d-mail", access: "write", rule: "mailers via entitlement mail.acme.com:write" }] });
  });

  test("a user without the role or entitlement is not matched", () => {
    const other = user({ roles: [{ value: "Reader" }], entitlements: [{ value: "news.acme.com:read" }] });
    const state = desiredState(snapshot([other]), rules([{ appRole: "Admin", role: "admin" }, { entitlement: "mail.acme.com:write", domains: [{ pattern: "mail.acme.com", access: "write" }] }]), DOMAINS);
    expect(ada(state).state).toBe("unassigned");
  });
});

describe("attributes: true reads what /Roles and /Entitlements publish", () => {
  const attributes = rules([{ name: "from-idp", attributes: true }]);

  test("a published role and entitlements, from core roles and entitlements", () => {
    const state = desiredState(snapshot([user({ roles: [{ value: "Member" }], entitlements: [{ value: "mail.acme.com:read" }, { value: "mail.acme.com:write" }, { value: "news.acme.com:read" }] })]), attributes, DOMAINS);
    expect(ada(state).role).toBe("member");
    expect(ada(state).grants.map((g) => [g.domainId, g.access])).toEqual([["d-mail", "write"], ["d-news", "read"]]);
  });

  test("a pulled user without roles changes nothing", () => {
    const extension = { [IDSYNC_EXTENSION]: { role: "member", domainGrants: [{ domain: "news.acme.com", access: "read" }] } };
    const before = desiredState(snapshot([user(extension)]), attributes, DOMAINS);
    expect(ada(before)).toMatchObject({ role: "member", roleRule: "from-idp", grants: [{ domainId: "d-news", access: "read", rule: "from-idp" }] });
    expect(desiredState(snapshot([user({})]), attributes, DOMAINS).people.get("email:ada@acme.com")!.state).toBe("unassigned");
  });

  test("an unknown idsync role or access grants nothing and is a warning and an alert", () => {
    const odd = user({ [IDSYNC_EXTENSION]: { role: "superuser", domainGrants: [{ domain: "mail.acme.com", access: "admin" }] } });
    const state = desiredState(snapshot([odd]), attributes, DOMAINS);
    expect(ada(state).state).toBe("unassigned");
    expect(state.warnings.map((w) => w.message)).toEqual([
      `ada@acme.com: idsync role "superuser" is not owner, admin or member; it grants nothing`,
      `ada@acme.com: idsync access "admin" for mail.acme.com is not read or write; it grants nothing`,
    ]);
    expect(state.alerts).toEqual(state.warnings.map((w) => ({ personKey: "email:ada@acme.com", detail: `${w.message} (rule from-idp)` })));
  });
});

describe("one precedence for every way a role arrives", () => {
  const ROLES: Role[] = ["owner", "admin", "member"];
  const casing = (value: string) => fc.constantFrom(value, value.toUpperCase(), value[0]!.toUpperCase() + value.slice(1));
  const scenario = fc.record({
    groupRole: fc.option(fc.constantFrom(...ROLES), { nil: undefined }),
    extensionRole: fc.option(fc.constantFrom<string>(...ROLES, "superuser"), { nil: undefined }),
    coreRoles: fc.array(fc.record({ role: fc.constantFrom<string>(...ROLES, "Reader"), type: fc.constantFrom(ENTRA, "work", undefined) }), { maxLength: 3 }),
    appRoleRule: fc.option(fc.record({ value: fc.constantFrom("Admin", "Reader"), role: fc.constantFrom(...ROLES) }), { nil: undefined }),
    attributesRule: fc.boolean(),
    grants: fc.array(fc.record({ via: fc.constantFrom("rule", "extension", "entitlement"), domain: fc.constantFrom("mail.acme.com", "news.acme.com"), access: fc.constantFrom("read" as const, "write" as const) }), { maxLength: 4 }),
  }).chain((s) => fc.tuple(fc.constant(s), fc.tuple(...s.coreRoles.map((r) => casing(r.role)))));

  test("the highest role wins and write beats read, whatever the source", () => {
    fc.assert(fc.property(scenario, ([s, spelled]) => {
      const resource: Record<string, unknown> = {
        roles: s.coreRoles.map((r, i) => ({ value: spelled[i], ...(r.type ? { type: r.type } : {}) })),
        entitlements: s.grants.filter((g) => g.via === "entitlement").map((g) => ({ value: `${g.domain}:${g.access}` })),
        [IDSYNC_EXTENSION]: { ...(s.extensionRole ? { role: s.extensionRole } : {}), domainGrants: s.grants.filter((g) => g.via === "extension").map((g) => ({ domain: g.domain, access: g.access })) },
      };
      const ruleDomains = s.grants.filter((g) => g.via === "rule").map((g) => ({ pattern: g.domain, access: g.access }));
      const list: Array<Partial<MappingRule>> = [];
      if (s.groupRole || ruleDomains.length) list.push({ group: "Staff", role: s.groupRole, domains: ruleDomains });
      if (s.appRoleRule) list.push({ appRole: s.appRoleRule.value, role: s.appRoleRule.role });
      if (s.attributesRule) list.push({ attributes: true });
      const state = desiredState(snapshot([user(resource)], [{ id: "g", connectionId: "c1", sourceId: "g", externalId: null, displayName: "Staff", email: null }], [["g", "ada"]]), rules(list), DOMAINS);

      // the model: every source that applies, then the highest
      const offered: Role[] = [];
      const granted: Array<{ domain: string; access: string }> = [];
      if (s.groupRole || ruleDomains.length) {
        offered.push(s.groupRole ?? "member");
        granted.push(...s.grants.filter((g) => g.via === "rule"));
      }
      if (s.appRoleRule && s.coreRoles.some((r) => r.role.toLowerCase() === s.appRoleRule!.value.toLowerCase())) offered.push(s.appRoleRule.role);
      if (s.attributesRule) {
        const fromAttributes: Role[] = [];
        const attributeGrants = s.grants.filter((g) => g.via !== "rule");
        if (s.extensionRole && s.extensionRole in ROLE_RANK) fromAttributes.push(s.extensionRole as Role);
        for (const r of s.coreRoles) if (r.role in ROLE_RANK) fromAttributes.push(r.role as Role);
        if (fromAttributes.length || attributeGrants.length) {
          offered.push(...fromAttributes, "member");
          granted.push(...attributeGrants);
        }
      }
      const person = ada(state);
      if (offered.length === 0) {
        expect(person.state).toBe("unassigned");
        return;
      }
      const highest = offered.reduce((a, b) => (ROLE_RANK[b] > ROLE_RANK[a] ? b : a));
      expect(person.role).toBe(highest);
      if (highest !== "member") {
        expect(person.grants).toEqual([]);
        return;
      }
      const expected = new Map<string, string>();
      for (const g of granted) if (expected.get(g.domain) !== "write") expected.set(g.domain, g.access);
      expect(new Map(person.grants.map((g) => [DOMAINS.find((d) => d.id === g.domainId)!.name, g.access]))).toEqual(expected);
    }), { numRuns: 300 });
  });
});

test("a rule naming a group by a name several groups share matches them all, with a warning", () => {
  const groups = [
    { id: "g1", connectionId: "google", sourceId: "s1", externalId: null, displayName: "Sales", email: "sales@acme.com" },
    { id: "g2", connectionId: "google", sourceId: "s2", externalId: null, displayName: "sales", email: "sales-emea@acme.com" },
  ];
  const state = desiredState(snapshot([user({}, "ada"), user({}, "bo")], groups, [["g1", "ada"], ["g2", "bo"]]), rules([{ name: "sales", group: "Sales", role: "member" }]), DOMAINS);
  expect([...state.people.values()].map((p) => p.role)).toEqual(["member", "member"]);
  expect(state.warnings).toEqual([{ rule: "sales", line: 1, message: `"Sales" names 2 IdP groups (in 1 connection(s)); members of every one of them match` }]);
});

test("an owner by app role or entitlement can be anyone: a scoped reconcile looks at everyone", () => {
  expect(ownerCandidateSources(rules([{ appRole: "Owner", role: "owner" }]), [], [])).toBeNull();
  expect(ownerCandidateSources(rules([{ appRole: "Admin", role: "admin" }]), [], [])).toEqual({ groupIds: new Set(), byAttributes: false });
});
