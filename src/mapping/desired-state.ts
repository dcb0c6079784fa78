// Desired state: for every person the account's IdPs know, the role and domain access the rules give
// them, and why. A pure function of (snapshot, rules, domains, who-is-who): no database, no clock.
import type { AccountSnapshot, SnapshotUser } from "../snapshot/account-snapshot.ts";
import { ROLE_RANK, type Access, type MappingRule, type MappingRules, type Role } from "./mapping-rules.ts";
import { groupRuleMatcher } from "./group-closure.ts";
import { groupMatches } from "./group-selector.ts";
import { domainsMatching, type Domain } from "./domain-patterns.ts";
import { parseUserCondition, type UserCondition } from "./user-condition.ts";

export const IDSYNC_EXTENSION = "urn:ietf:params:scim:schemas:extension:idsync:2.0:User";

export interface DesiredGrant {
  readonly domainId: string;
  readonly access: Access;
  readonly rule: string;
}

export type PersonState = "assigned" | "departed" | "unassigned";

/** One person as the rules want them. */
export interface DesiredPerson {
  /** The person's key: an app user id when linked, else `email:<address>`. */
  readonly key: string;
  readonly idpUserIds: readonly string[];
  readonly connectionIds: readonly string[];
  readonly email: string | null;
  readonly displayName: string | null;
  /** departed: deactivated or deleted in any connection that knows them; unassigned: in no mapped group. */
  readonly state: PersonState;
  /** Every IdP that knew them deleted them (the membership goes now, not after retention). */
  readonly deleted: boolean;
  readonly role: Role | null;
  readonly roleRule: string | null;
  /** Empty for owners and admins: they see every domain. */
  readonly grants: readonly DesiredGrant[];
}

export interface RuleWarning {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

export interface DesiredState {
  readonly people: ReadonlyMap<string, DesiredPerson>;
  readonly warnings: readonly RuleWarning[];
}

interface CompiledRule {
  readonly rule: MappingRule;
  readonly groupIds?: ReadonlySet<string>;
  readonly condition?: UserCondition;
  readonly grants: ReadonlyArray<{ domainId: string; access: Access }>;
}

function compileRules(rules: MappingRules, snapshot: AccountSnapshot, domains: readonly Domain[], warnings: RuleWarning[]): CompiledRule[] {
  return rules.rules.map((rule) => {
    const grants = rule.domains.flatMap(({ pattern, access }) => {
      const matched = domainsMatching(pattern, domains);
      if (matched.length === 0) warnings.push({ rule: rule.name, line: rule.line, message: `no domain of this account matches ${pattern}` });
      return matched.map((d) => ({ domainId: d.id, access }));
    });
    if (rule.group !== undefined) {
      const groupIds = new Set(snapshot.groups.filter((g) => groupMatches(g, rule.group!)).map((g) => g.id));
      if (groupIds.size === 0) warnings.push({ rule: rule.name, line: rule.line, message: `no IdP group is called or has the id "${rule.group}"` });
      return { rule, groupIds, grants };
    }
    if (rule.filter !== undefined) return { rule, condition: parseUserCondition(rule.filter), grants };
    return { rule, grants };
  });
}

/** Role and grants carried by the user's idsync extension attributes. */
function attributeAccess(user: SnapshotUser, domains: readonly Domain[]): { role?: Role; grants: Array<{ domainId: string; access: Access }> } {
  const extension = user.resource[IDSYNC_EXTENSION] as { role?: unknown; domainGrants?: unknown } | undefined;
  const role = typeof extension?.role === "string" && extension.role in ROLE_RANK ? (extension.role as Role) : undefined;
  const grants = (Array.isArray(extension?.domainGrants) ? extension.domainGrants : []).flatMap((g: { domain?: unknown; access?: unknown }) =>
    typeof g?.domain === "string" && (g.access === "read" || g.access === "write")
      ? domainsMatching(g.domain.toLowerCase(), domains).map((d) => ({ domainId: d.id, access: g.access as Access })) : []);
  return { role, grants };
}

interface Accumulator {
  idpUserIds: string[];
  connectionIds: Set<string>;
  email: string | null;
  displayName: string | null;
  inactive: boolean;
  liveConnections: Set<string>;
  deletedConnections: Set<string>;
  matched: boolean;
  role: Role | null;
  roleRule: string | null;
  grants: Map<string, DesiredGrant>;
}

function raiseRole(acc: Accumulator, role: Role, rule: string): void {
  if (acc.role === null || ROLE_RANK[role] > ROLE_RANK[acc.role]) {
    acc.role = role;
    acc.roleRule = rule;
  }
}

function addGrant(acc: Accumulator, domainId: string, access: Access, rule: string): void {
  const existing = acc.grants.get(domainId);
  if (!existing || (existing.access === "read" && access === "write")) acc.grants.set(domainId, { domainId, access, rule });
}

/**
 * Computes what the rules want. `personOf` maps IdP user ids to person keys (linked app users);
 * IdP users without a link are keyed by email, so one person known to several connections merges.
 */
export function desiredState(
  snapshot: AccountSnapshot, rules: MappingRules, domains: readonly Domain[], personOf: ReadonlyMap<string, string> = new Map(),
): DesiredState {
  const warnings: RuleWarning[] = [];
  const compiled = compileRules(rules, snapshot, domains, warnings);
  const rulesMatching = groupRuleMatcher(snapshot.edges, compiled.map((c) => c.groupIds));
  // a user is checked against the group rules they matched and every rule that names no group, in rule order
  const ungrouped = compiled.flatMap((c, index) => (c.groupIds ? [] : [index]));
  const people = new Map<string, Accumulator>();

  for (const user of snapshot.users) {
    const key = personOf.get(user.id) ?? `email:${(user.email ?? user.userName).toLowerCase()}`;
    let acc = people.get(key);
    if (!acc) {
      acc = { idpUserIds: [], connectionIds: new Set(), email: user.email ?? user.userName, displayName: user.displayName,
        inactive: false, liveConnections: new Set(), deletedConnections: new Set(), matched: false, role: null, roleRule: null, grants: new Map() };
      people.set(key, acc);
    }
    acc.idpUserIds.push(user.id);
    acc.connectionIds.add(user.connectionId);
    if (user.deleted) {
      acc.deletedConnections.add(user.connectionId);
      continue;
    }
    acc.liveConnections.add(user.connectionId);
    if (!user.active) acc.inactive = true;
    if (user.email) acc.email = user.email;

    const byGroup = rulesMatching(user.id);
    const candidates = byGroup.size === 0 ? ungrouped : [...byGroup, ...ungrouped].sort((a, b) => a - b);
    for (const index of candidates) {
      const { rule, groupIds, condition, grants } = compiled[index]!;
      const matches = groupIds !== undefined || (condition ? condition(user.resource) : rule.attributes === true);
      if (!matches) continue;
      let ruleGrants = grants;
      let role = rule.role;
      if (rule.attributes) {
        const fromAttributes = attributeAccess(user, domains);
        if (!fromAttributes.role && fromAttributes.grants.length === 0) continue;
        role = fromAttributes.role ?? role;
        ruleGrants = [...grants, ...fromAttributes.grants];
      }
      acc.matched = true;
      // domain access alone makes someone a member
      raiseRole(acc, role ?? "member", rule.name);
      for (const g of ruleGrants) addGrant(acc, g.domainId, g.access, rule.name);
    }
    if (!acc.matched && rules.defaultRole === "member") {
      acc.matched = true;
      raiseRole(acc, "member", "default");
    }
  }

  const result = new Map<string, DesiredPerson>();
  for (const [key, acc] of people) {
    // a deletion counts unless the same IdP knows the person again (re-created with a new id)
    const deletedSomewhere = [...acc.deletedConnections].some((c) => !acc.liveConnections.has(c));
    const state: PersonState = acc.inactive || deletedSomewhere ? "departed" : acc.matched ? "assigned" : "unassigned";
    const role = state === "assigned" ? acc.role : null;
    result.set(key, {
      key, idpUserIds: acc.idpUserIds, connectionIds: [...acc.connectionIds], email: acc.email, displayName: acc.displayName, state,
      deleted: acc.liveConnections.size === 0,
      role, roleRule: state === "assigned" ? acc.roleRule : null,
      grants: role === "member" ? [...acc.grants.values()].sort((a, b) => (a.domainId < b.domainId ? -1 : a.domainId > b.domainId ? 1 : 0)) : [],
    });
  }
  return { people: result, warnings };
}
