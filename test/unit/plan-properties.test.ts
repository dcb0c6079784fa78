// Properties of the planner over random snapshots, rules and memberships (fast-check): the owner
// invariant, the key invariant, manual rows untouched, and a plan after applying one changes nothing.
import fc from "fast-check";
import { expect, test } from "vitest";
import { planAccount } from "../../src/reconcile/plan-account.ts";
import { changesOf } from "../../src/reconcile/plan.ts";
import type { ActualMember, ActualState } from "../../src/reconcile/actual-state.ts";
import type { Role } from "../../src/mapping/mapping-rules.ts";
import { applyModel } from "../support/plan-model.ts";
import { actual, DOMAINS, idpUser, key, member, NOW, rules, snapshot, STANDARD_RULES } from "../support/plan-fixtures.ts";

const NAMES = ["ann", "bob", "cy", "dee", "eve", "fay"];
const GROUPS = ["Owners", "Admins", "Devs", "Readers"];
const ROLES: Role[] = ["admin", "member"];

const scenario = fc.record({
  people: fc.array(fc.record({
    name: fc.constantFrom(...NAMES),
    inIdp: fc.boolean(), active: fc.boolean(), deleted: fc.boolean(),
    groups: fc.subarray(GROUPS),
    member: fc.option(fc.record({ role: fc.constantFrom(...ROLES), idp: fc.boolean(), suspended: fc.boolean(),
      grants: fc.subarray(["d-prod", "d-stg"]), write: fc.boolean(), orgKey: fc.boolean(), domainKey: fc.subarray(["d-prod", "d-stg"]) }), { nil: undefined }),
  }), { maxLength: 6 }).map((people) => [...new Map(people.map((p) => [p.name, p])).values()]),
  ownerInIdp: fc.boolean(), ownerActive: fc.boolean(),
  successor: fc.option(fc.constantFrom(...NAMES), { nil: undefined }),
  orgKeys: fc.constantFrom("revoke" as const, "keep-and-alert" as const),
  linkByEmail: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const person = (name: string, groups: string[]): Scenario["people"][number] => ({ name, inIdp: true, active: true, deleted: false, groups, member: undefined });
/** Counterexamples fast-check found once, replayed on every run (CI, 4 December: seed -1721904136). */
const FOUND: Array<[Scenario]> = [
  // the departed owner hands over to the successor while two others are in Owners: the next plan demoted the new owner
  [{ people: [person("bob", ["Owners"]), person("cy", ["Owners"]), person("ann", ["Admins"])], ownerInIdp: false, ownerActive: false, successor: "ann", orgKeys: "revoke", linkByEmail: false }],
];

function build(s: Scenario) {
  const users = [idpUser("olga", { active: s.ownerActive }), ...s.people.filter((p) => p.inIdp).map((p) => idpUser(p.name, { active: p.active, deleted: p.deleted }))];
  const groups: Record<string, string[]> = Object.fromEntries(GROUPS.map((g) => [g, s.people.filter((p) => p.inIdp && p.groups.includes(g)).map((p) => p.name)]));
  if (s.ownerInIdp) groups.Owners = ["olga", ...(groups.Owners ?? [])];
  const members: Array<ActualMember & { idp: boolean }> = [member("olga", "owner", { keys: [key("k-olga", "organization")] })];
  for (const p of s.people) {
    if (!p.member) continue;
    const m = p.member;
    members.push(member(p.name, m.role, { idp: m.idp, status: m.suspended ? "suspended" : "active", suspendedAt: m.suspended ? "2026-11-01T00:00:00Z" : null,
      grants: m.role === "member" ? m.grants.map((domainId) => ({ domainId, access: m.write ? "write" : "read", managed: m.idp })) : [],
      keys: [...(m.orgKey && m.role === "admin" ? [key(`k-org-${p.name}`, "organization")] : []),
        ...(m.domainKey.length && (m.role === "admin" || m.write) ? [key(`k-dom-${p.name}`, "domains", m.role === "admin" ? m.domainKey : m.domainKey.filter((d) => m.grants.includes(d)))] : [])]
        .filter((k) => k.scope === "organization" || k.domainIds.length > 0),
      activeSessions: 1 }));
  }
  const ruleSet = rules(STANDARD_RULES, { ownerSuccessor: s.successor ? `${s.successor}@example.com` : null, orgKeys: s.orgKeys, linkByEmail: s.linkByEmail });
  return { snap: snapshot(users, groups), state: actual(members), ruleSet };
}

function keyInvariantHolds(state: ActualState, orgKeys: "revoke" | "keep-and-alert"): boolean {
  for (const m of state.members.values()) {
    if (m.managedBy === null) continue;
    for (const k of m.keys) {
      if (k.scope === "organization") {
        if ((m.status !== "active" || m.role === "member") && orgKeys === "revoke") return false;
        continue;
      }
      if (m.status !== "active") return false;
      if (m.role === "member" && !k.domainIds.every((d) => m.grants.some((g) => g.domainId === d && g.access === "write"))) return false;
    }
  }
  return true;
}

test("over random accounts: one owner, keys within their creator's access, manual rows untouched, and a fixed point", () => {
  fc.assert(fc.property(scenario, (s) => {
    const { snap, state, ruleSet } = build(s);
    const plan = planAccount({ snapshot: snap, rules: ruleSet, domains: DOMAINS, actual: state, now: NOW });
    const after = applyModel(state, plan, NOW);
    expect([...after.members.values()].filter((m) => m.role === "owner")).toHaveLength(1);
    // ownership moves only by a transfer: no plan demotes the owner on its own
    expect(plan.actions.filter((a) => a.type === "change_role" && a.from === "owner")).toEqual([]);
    expect(keyInvariantHolds(after, s.orgKeys)).toBe(true);
    for (const m of state.members.values()) {
      if (m.managedBy !== null) continue;
      // touched only when linked by policy, or named as the owner's successor by the account's policy
      const adopted = plan.actions.some((a) => a.type === "link_identity" && a.userId === m.userId);
      const successor = plan.actions.some((a) => a.type === "transfer_ownership" && a.to === m.userId && a.reason.event.includes("successor"));
      if (!adopted && !successor) expect(after.members.get(m.userId)).toEqual(m);
    }
    const again = planAccount({ snapshot: snap, rules: ruleSet, domains: DOMAINS, actual: after, now: NOW });
    expect(changesOf(again)).toEqual([]);
  }), { numRuns: Number(process.env.PROPERTY_RUNS ?? 500), examples: FOUND });
});
