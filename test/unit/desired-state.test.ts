// Desired state as plain data: rules over a snapshot, with bystanders that must stay untouched.
import { describe, expect, test } from "vitest";
import { desiredState } from "../../src/mapping/desired-state.ts";
import type { MappingRules, MappingRule } from "../../src/mapping/mapping-rules.ts";
import { DEFAULT_POLICY } from "../../src/mapping/mapping-rules.ts";
import type { AccountSnapshot, SnapshotUser } from "../../src/snapshot/account-snapshot.ts";

const DOMAINS = [
  { id: "d-prod", name: "example.com" },
  { id: "d-stg-eu", name: "eu.staging.example.com" },
  { id: "d-stg-us", name: "us.staging.example.com" },
];

const user = (id: string, extra: Partial<SnapshotUser> = {}): SnapshotUser => ({
  id, connectionId: "c1", userName: `${id}@example.com`, email: `${id}@example.com`, displayName: id, active: true, deleted: false, resource: {}, ...extra,
});
const group = (id: string, displayName: string, email: string | null = null) => ({ id, connectionId: "c1", sourceId: `src-${id}`, externalId: null, displayName, email });
const rules = (list: Array<Partial<MappingRule>>, defaultRole: "none" | "member" = "none"): MappingRules => ({
  defaultRole, policy: DEFAULT_POLICY, rules: list.map((r, i) => ({ name: r.name ?? `r${i}`, line: i + 1, domains: [], ...r })),
});
const snapshot = (users: SnapshotUser[], groups: ReturnType<typeof group>[] = [], edges: Array<[string, string]> = []): AccountSnapshot =>
  ({ users, groups, edges: edges.map(([groupId, memberId]) => ({ groupId, memberId })) });
const person = (state: ReturnType<typeof desiredState>, email: string) => state.people.get(`email:${email}`);

describe("roles", () => {
  const snap = snapshot([user("ann"), user("bob"), user("cy")], [group("g-own", "Owners"), group("g-adm", "Admins"), group("g-dev", "Developers")],
    [["g-own", "ann"], ["g-adm", "ann"], ["g-adm", "bob"], ["g-dev", "cy"]]);
  const ruleSet = rules([{ group: "Owners", role: "owner" }, { group: "admins", role: "admin" }, { group: "Developers", role: "member" }]);

  test("when several rules match, owner beats admin beats member", () => {
    const state = desiredState(snap, ruleSet, DOMAINS);
    expect(person(state, "ann@example.com")).toMatchObject({ role: "owner", roleRule: "r0", state: "assigned" });
    expect(person(state, "bob@example.com")?.role).toBe("admin");
    expect(person(state, "cy@example.com")?.role).toBe("member");
  });
  test("groups match by display name case-insensitively, by IdP id, and by group email", () => {
    const byId = desiredState(snap, rules([{ group: "src-g-dev", role: "admin" }]), DOMAINS);
    expect(person(byId, "cy@example.com")?.role).toBe("admin");
    const withEmail = snapshot([user("cy")], [group("g", "Devs", "devs@example.com")], [["g", "cy"]]);
    expect(person(desiredState(withEmail, rules([{ group: "DEVS@example.com", role: "member" }]), DOMAINS), "cy@example.com")?.role).toBe("member");
  });
  test("a user in no mapped group is unassigned when the default is none, a member when it is member", () => {
    const loner = snapshot([user("dee")]);
    expect(person(desiredState(loner, rules([{ group: "Admins", role: "admin" }]), DOMAINS), "dee@example.com")).toMatchObject({ state: "unassigned", role: null });
    expect(person(desiredState(loner, rules([], "member"), DOMAINS), "dee@example.com")).toMatchObject({ state: "assigned", role: "member", roleRule: "default", grants: [] });
  });
});

describe("domain grants", () => {
  test("write beats read, and a pattern names every matching subdomain", () => {
    const snap = snapshot([user("eve")], [group("a", "Readers"), group("b", "Staging")], [["a", "eve"], ["b", "eve"]]);
    const state = desiredState(snap, rules([
      { group: "Readers", domains: [{ pattern: "example.com", access: "read" }, { pattern: "*.staging.example.com", access: "read" }] },
      { group: "Staging", domains: [{ pattern: "*.staging.example.com", access: "write" }] },
    ]), DOMAINS);
    expect(person(state, "eve@example.com")?.grants).toEqual([
      { domainId: "d-prod", access: "read", rule: "r0" },
      { domainId: "d-stg-eu", access: "write", rule: "r1" },
      { domainId: "d-stg-us", access: "write", rule: "r1" },
    ]);
  });
  test("domain access alone makes a member", () => {
    const snap = snapshot([user("fay")], [group("a", "Readers")], [["a", "fay"]]);
    expect(person(desiredState(snap, rules([{ group: "Readers", domains: [{ pattern: "example.com", access: "read" }] }]), DOMAINS), "fay@example.com")?.role).toBe("member");
  });
  test("owners and admins need no grants: they see every domain", () => {
    const snap = snapshot([user("gus")], [group("a", "Admins")], [["a", "gus"]]);
    const state = desiredState(snap, rules([{ group: "Admins", role: "admin", domains: [{ pattern: "example.com", access: "write" }] }]), DOMAINS);
    expect(person(state, "gus@example.com")).toMatchObject({ role: "admin", grants: [] });
  });
});

describe("conditions over the user", () => {
  const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  test("a SCIM filter on an enterprise attribute matches case-insensitively", () => {
    const snap = snapshot([user("hal", { resource: { [ENT]: { department: "support" } } }), user("ivy", { resource: { [ENT]: { department: "Sales" } } })]);
    const state = desiredState(snap, rules([{ filter: `${ENT}:department eq "Support"`, domains: [{ pattern: "example.com", access: "read" }] }]), DOMAINS);
    expect(person(state, "hal@example.com")?.grants).toEqual([{ domainId: "d-prod", access: "read", rule: "r0" }]);
    expect(person(state, "ivy@example.com")?.state).toBe("unassigned");
  });
  test("the idsync extension carries role and grants when a rule takes attributes", () => {
    const IDS = "urn:ietf:params:scim:schemas:extension:idsync:2.0:User";
    const snap = snapshot([user("jo", { resource: { [IDS]: { role: "member", domainGrants: [{ domain: "*.staging.example.com", access: "write" }] } } }), user("kim")]);
    const state = desiredState(snap, rules([{ attributes: true }]), DOMAINS);
    expect(person(state, "jo@example.com")?.grants.map((g) => g.domainId)).toEqual(["d-stg-eu", "d-stg-us"]);
    expect(person(state, "kim@example.com")?.state).toBe("unassigned");
  });
});

describe("nesting, departures, several connections", () => {
  test("membership through nested groups counts, and a cycle does not loop", () => {
    const snap = snapshot([user("lou")], [group("outer", "Admins"), group("mid", "Mid"), group("inner", "Inner")],
      [["outer", "mid"], ["mid", "inner"], ["inner", "outer"], ["inner", "lou"]]);
    expect(person(desiredState(snap, rules([{ group: "Admins", role: "admin" }]), DOMAINS), "lou@example.com")?.role).toBe("admin");
  });
  test("deactivated or deleted in any connection that knows them means departed", () => {
    const snap = snapshot([user("mo"), user("mo2", { connectionId: "c2", email: "mo@example.com", active: false }), user("ned", { deleted: true })],
      [group("a", "Admins")], [["a", "mo"]]);
    const state = desiredState(snap, rules([{ group: "Admins", role: "admin" }]), DOMAINS);
    expect(person(state, "mo@example.com")).toMatchObject({ state: "departed", role: null, connectionIds: ["c1", "c2"] });
    expect(person(state, "ned@example.com")?.state).toBe("departed");
  });
  test("deleted identities, in whatever order the snapshot lists them: re-created in the same IdP is not departed, deleted in one of two is, deleted everywhere is deleted", () => {
    const id = (name: string, connectionId: string, deleted: boolean) => user(name, { connectionId, email: "kit@example.com", deleted });
    const cases: Array<{ identities: ReturnType<typeof user>[]; state: string; deleted: boolean }> = [
      { identities: [id("k1", "c1", true), id("k2", "c1", false)], state: "assigned", deleted: false },
      { identities: [id("k1", "c1", true), id("k2", "c2", false)], state: "departed", deleted: false },
      { identities: [id("k1", "c1", true), id("k2", "c2", true)], state: "departed", deleted: true },
      { identities: [id("k1", "c1", false), id("k2", "c2", true), id("k3", "c2", false)], state: "assigned", deleted: false },
      { identities: [id("k1", "c1", false), id("k2", "c2", false), id("k3", "c2", true)], state: "assigned", deleted: false },
      { identities: [id("k1", "c1", false), id("k2", "c1", false), id("k3", "c2", true)], state: "departed", deleted: false },
    ];
    for (const { identities, state, deleted } of cases) {
      for (const order of [identities, [...identities].reverse()]) {
        const snap = snapshot(order, [group("a", "Admins")], order.map((u): [string, string] => ["a", u.id]));
        const kit = person(desiredState(snap, rules([{ group: "Admins", role: "admin" }]), DOMAINS), "kit@example.com");
        expect({ ids: order.map((u) => u.id), state: kit?.state, deleted: kit?.deleted }).toEqual({ ids: order.map((u) => u.id), state, deleted });
        expect([...kit!.connectionIds].sort()).toEqual([...new Set(order.map((u) => u.connectionId))].sort());
      }
    }
  });
  test("a person known to two connections gets the union of their access", () => {
    const snap = snapshot([user("oz"), user("oz2", { connectionId: "c2", email: "OZ@example.com" })],
      [group("a", "Readers"), { ...group("b", "Writers"), connectionId: "c2" }], [["a", "oz"], ["b", "oz2"]]);
    const state = desiredState(snap, rules([
      { group: "Readers", domains: [{ pattern: "example.com", access: "read" }] },
      { group: "Writers", domains: [{ pattern: "example.com", access: "write" }, { pattern: "eu.staging.example.com", access: "read" }] },
    ]), DOMAINS);
    expect(person(state, "oz@example.com")?.grants).toEqual([{ domainId: "d-prod", access: "write", rule: "r1" }, { domainId: "d-stg-eu", access: "read", rule: "r1" }]);
  });
  test("linked IdP users are keyed by their app user, whatever their email says now", () => {
    const snap = snapshot([user("pat", { email: "pat.new@example.com" })], [group("a", "Admins")], [["a", "pat"]]);
    const state = desiredState(snap, rules([{ group: "Admins", role: "admin" }]), DOMAINS, ["app-user-1"]); // the person key of snap.users[0], pat
    expect(state.people.get("app-user-1")).toMatchObject({ role: "admin", email: "pat.new@example.com" });
  });
});

test("rules naming a group or domain that does not exist are warnings, not errors", () => {
  const state = desiredState(snapshot([user("quinn")]), rules([{ name: "ghost", group: "Nobody", role: "admin" }, { name: "far", group: "Nobody", domains: [{ pattern: "other.org", access: "read" }] }]), DOMAINS);
  expect(state.warnings).toEqual([
    { rule: "ghost", line: 1, message: 'no IdP group is called or has the id "Nobody"' },
    { rule: "far", line: 2, message: "no domain of this account matches other.org" },
    { rule: "far", line: 2, message: 'no IdP group is called or has the id "Nobody"' },
  ]);
  expect(person(state, "quinn@example.com")?.state).toBe("unassigned");
});
