// Small builders for planner tests: a snapshot, rules and the account's current membership tables.
import type { ActualKey, ActualMember, ActualState } from "../../src/reconcile/actual-state.ts";
import { DEFAULT_POLICY, type AccountPolicy, type MappingRule, type MappingRules, type Role } from "../../src/mapping/mapping-rules.ts";
import type { AccountSnapshot, SnapshotUser } from "../../src/snapshot/account-snapshot.ts";

export const DOMAINS = [
  { id: "d-prod", name: "example.com" },
  { id: "d-stg", name: "staging.example.com" },
];
export const NOW = Date.parse("2026-11-23T12:00:00Z");

export const idpUser = (name: string, extra: Partial<SnapshotUser> = {}): SnapshotUser => ({
  id: `idp-${name}`, connectionId: "c1", userName: `${name}@example.com`, email: `${name}@example.com`, displayName: name,
  active: true, deleted: false, resource: {}, ...extra,
});

export function snapshot(users: SnapshotUser[], groups: Record<string, string[]>): AccountSnapshot {
  return {
    users,
    groups: Object.keys(groups).map((name) => ({ id: `g-${name}`, connectionId: "c1", sourceId: `g-${name}`, externalId: null, displayName: name, email: null })),
    edges: Object.entries(groups).flatMap(([name, members]) => members.map((m) => ({ groupId: `g-${name}`, memberId: `idp-${m}` }))),
  };
}

export const STANDARD_RULES: Array<Partial<MappingRule>> = [
  { name: "owners", group: "Owners", role: "owner" },
  { name: "admins", group: "Admins", role: "admin" },
  { name: "devs", group: "Devs", role: "member", domains: [{ pattern: "example.com", access: "read" }, { pattern: "staging.example.com", access: "write" }] },
  { name: "readers", group: "Readers", domains: [{ pattern: "example.com", access: "read" }] },
];

export function rules(list: Array<Partial<MappingRule>> = STANDARD_RULES, policy: Partial<AccountPolicy> = {}): MappingRules {
  return { defaultRole: "none", policy: { ...DEFAULT_POLICY, ...policy }, rules: list.map((r, i) => ({ name: r.name ?? `r${i}`, line: i + 1, domains: [], ...r })) };
}

/** A member of the account; `idp: true` makes it managed by connection c1 and linked to idp-<name>. */
export function member(name: string, role: Role, extra: Partial<ActualMember> & { idp?: boolean } = {}): ActualMember & { idp: boolean } {
  return { userId: `u-${name}`, email: `${name}@example.com`, role, status: "active", suspendedAt: null, managedBy: extra.idp === false ? null : "c1",
    grants: [], keys: [], activeSessions: 0, pendingInvitations: 0, idp: extra.idp !== false, ...extra };
}

export const key = (keyId: string, scope: ActualKey["scope"], domainIds: string[] = []): ActualKey => ({ keyId, scope, domainIds, lastUsedAt: "2026-11-20T09:00:00.000Z" });

export function actual(members: Array<ActualMember & { idp: boolean }>, extra: { users?: string[]; invitationsTo?: Record<string, number> } = {}): ActualState {
  return {
    members: new Map(members.map((m) => [m.userId, m])),
    identities: new Map(members.filter((m) => m.idp).map((m) => [`idp-${m.userId.slice(2)}`, m.userId])),
    usersByEmail: new Map([...members.map((m) => [m.email.toLowerCase(), { userId: m.userId, email: m.email }] as const),
      ...(extra.users ?? []).map((name) => [`${name}@example.com`, { userId: `u-${name}`, email: `${name}@example.com` }] as const)]),
    invitationsTo: new Map(Object.entries(extra.invitationsTo ?? {})),
    connectionIds: new Set(["c1"]),
  };
}
