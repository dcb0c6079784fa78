// Desired state: for every person the account's IdPs know, the role and domain access the rules give
// them, and why. A pure function of (snapshot, rules, domains, who-is-who): no database, no clock.
import type { AccountSnapshot, SnapshotUser } from "../snapshot/account-snapshot.ts";
import { ROLE_RANK, type Access, type MappingRule, type MappingRules, type Role } from "./mapping-rules.ts";
import { groupRuleMatcher } from "./group-closure.ts";
import { groupsMatching } from "./group-selector.ts";
import { domainsMatching, type Domain } from "./domain-patterns.ts";
import { parseUserCondition, type UserCondition } from "./user-condition.ts";
import { assignedEntitlements, assignedRoles, findAssignment, publishedEntitlement, publishedRole } from "./assigned-access.ts";

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

/** Something an IdP sent that grants nothing and that an operator should see (raised as an alert). */
export interface DesiredAlert {
  readonly personKey: string;
  readonly detail: string;
}

export interface DesiredState {
  readonly people: ReadonlyMap<string, DesiredPerson>;
  readonly warnings: readonly RuleWarning[];
  /** Attribute values that grant nothing (an unknown idsync `role` or `access`). */
  readonly alerts: readonly DesiredAlert[];
}

interface CompiledRule {
  readonly rule: MappingRule;
  readonly groupIds?: ReadonlySet<string>;
  readonly condition?: UserCondition;
  readonly grants: ReadonlyArray<{ domainId: string; access: Access }>;
  /** The rule's own access, as every user it matches gets it: one value, not one per user. */
  readonly own: readonly [AccessSource];
}

function compileRules(rules: MappingRules, snapshot: AccountSnapshot, domains: readonly Domain[], warnings: RuleWarning[]): CompiledRule[] {
  return rules.rules.map((rule) => {
    const grants = rule.domains.flatMap(({ pattern, access }) => {
      const matched = domainsMatching(pattern, domains);
      if (matched.length === 0) warnings.push({ rule: rule.name, line: rule.line, message: `no domain of this account matches ${pattern}` });
      return matched.map((d) => ({ domainId: d.id, access }));
    });
    const own = [{ label: rule.name, role: rule.role, grants }] as const;
    if (rule.group !== undefined) {
      const matching = groupsMatching(snapshot.groups, rule.group);
      const groupIds = new Set(matching.map((g) => g.id));
      if (groupIds.size === 0) warnings.push({ rule: rule.name, line: rule.line, message: `no IdP group is called or has the id "${rule.group}"` });
      // pulled directories may hold same-named groups: the rule takes all of them, and says so
      if (groupIds.size > 1) {
        warnings.push({ rule: rule.name, line: rule.line,
          message: `"${rule.group}" names ${groupIds.size} IdP groups (in ${new Set(matching.map((g) => g.connectionId)).size} connection(s)); members of every one of them match` });
      }
      return { rule, groupIds, grants, own };
    }
    if (rule.filter !== undefined) return { rule, condition: parseUserCondition(rule.filter), grants, own };
    return { rule, grants, own };
  });
}

/** One way a matched rule gives access: a role (none: member) and grants, labelled for plan, review and audit. */
interface AccessSource {
  readonly label: string;
  readonly role?: Role;
  readonly grants: ReadonlyArray<{ domainId: string; access: Access }>;
}

interface AttributeFindings {
  readonly sources: AccessSource[];
  /** Values that grant nothing: `role: superuser`, `access: admin`. */
  readonly unknown: string[];
}

/**
 * What the user's attributes give under an `attributes: true` rule: the idsync extension's role and
 * domain grants, and the core roles and entitlements that name what /Roles and /Entitlements publish.
 */
function attributeAccess(user: SnapshotUser, rule: MappingRule, domains: readonly Domain[]): AttributeFindings {
  const sources: AccessSource[] = [];
  const unknown: string[] = [];
  const extension = user.resource[IDSYNC_EXTENSION] as { role?: unknown; domainGrants?: unknown } | undefined;
  let role: Role | undefined;
  if (typeof extension?.role === "string" && extension.role !== "") {
    if (extension.role in ROLE_RANK) role = extension.role as Role;
    else unknown.push(`idsync role "${extension.role}" is not owner, admin or member`);
  }
  const grants = (Array.isArray(extension?.domainGrants) ? extension.domainGrants : []).flatMap((g: { domain?: unknown; access?: unknown }) => {
    if (typeof g?.domain !== "string") return [];
    if (g.access !== "read" && g.access !== "write") {
      unknown.push(`idsync access "${String(g.access)}" for ${g.domain} is not read or write`);
      return [];
    }
    return domainsMatching(g.domain.toLowerCase(), domains).map((d) => ({ domainId: d.id, access: g.access as Access }));
  });
  if (role !== undefined || grants.length > 0) sources.push({ label: rule.name, role, grants });
  for (const assigned of assignedRoles(user.resource)) {
    const published = publishedRole(assigned.value);
    if (published) sources.push({ label: `${rule.name} via ${assigned.provenance}`, role: published, grants: [] });
  }
  for (const assigned of assignedEntitlements(user.resource)) {
    const published = publishedEntitlement(assigned.value);
    const matched = published ? domainsMatching(published.pattern, domains) : [];
    if (matched.length > 0) sources.push({ label: `${rule.name} via ${assigned.provenance}`, grants: matched.map((d) => ({ domainId: d.id, access: published!.access })) });
  }
  return { sources, unknown };
}

/** The access a rule gives this user, or nothing when the rule does not match them. */
const NO_SOURCES: readonly AccessSource[] = [];

function ruleAccess(compiled: CompiledRule, user: SnapshotUser, domains: readonly Domain[], findings: (unknown: string[]) => void): readonly AccessSource[] {
  const { rule, groupIds, condition } = compiled;
  const [own] = compiled.own;
  if (groupIds !== undefined) return compiled.own;
  if (condition) return condition(user.resource) ? compiled.own : NO_SOURCES;
  if (rule.appRole !== undefined) {
    const found = findAssignment(assignedRoles(user.resource), rule.appRole);
    return found ? [{ ...own, label: `${rule.name} via ${found.provenance}` }] : [];
  }
  if (rule.entitlement !== undefined) {
    const found = findAssignment(assignedEntitlements(user.resource), rule.entitlement);
    return found ? [{ ...own, label: `${rule.name} via ${found.provenance}` }] : [];
  }
  if (rule.attributes) {
    const fromAttributes = attributeAccess(user, rule, domains);
    if (fromAttributes.unknown.length > 0) findings(fromAttributes.unknown);
    // the rule's own role and domains apply to those whose attributes give something
    return fromAttributes.sources.length === 0 ? [] : [own, ...fromAttributes.sources];
  }
  return [];
}

/**
 * One person while the users are read, and afterwards the DesiredPerson itself: finished in place, so the
 * map of people is written once (setting a million entries a second time cost a 1M-user plan a second).
 * A person has one identity or two: small arrays, not sets (100,000 people allocate them).
 */
interface Accumulator {
  readonly key: string;
  idpUserIds: string[];
  connectionIds: string[];
  email: string | null;
  displayName: string | null;
  state: PersonState;
  deleted: boolean;
  role: Role | null;
  roleRule: string | null;
  grants: readonly DesiredGrant[];
  inactive: boolean;
  /** The connections with a live identity of theirs; null while none was deleted (then: connectionIds). */
  liveConnections: string[] | null;
  /** Null until an identity of theirs is deleted (rare). */
  deletedConnections: string[] | null;
  matched: boolean;
  /** By domain id; null until a rule grants a domain. */
  grantsByDomain: Map<string, DesiredGrant> | null;
}

const addOnce = (list: string[], value: string) => {
  if (!list.includes(value)) list.push(value);
};

function raiseRole(acc: Accumulator, role: Role, rule: string): void {
  if (acc.role === null || ROLE_RANK[role] > ROLE_RANK[acc.role]) {
    acc.role = role;
    acc.roleRule = rule;
  }
}

function addGrant(acc: Accumulator, domainId: string, access: Access, rule: string): void {
  acc.grantsByDomain ??= new Map();
  const existing = acc.grantsByDomain.get(domainId);
  if (!existing || (existing.access === "read" && access === "write")) acc.grantsByDomain.set(domainId, { domainId, access, rule });
}

/** The key of a person no app user is linked to yet: their email (or userName), lower-cased, so IdPs merge on it. */
export const emailPersonKey = (user: SnapshotUser): string => `email:${(user.email ?? user.userName).toLowerCase()}`;

const NO_GRANTS: readonly DesiredGrant[] = [];
const ignoreFindings = () => undefined;

/**
 * Computes what the rules want. `personKeys[i]` is the person key of `snapshot.users[i]` (a linked app
 * user; identity resolution's personKeys); IdP users without one are keyed by email, so one person
 * known to several connections merges.
 */
export function desiredState(
  snapshot: AccountSnapshot, rules: MappingRules, domains: readonly Domain[], personKeys: ReadonlyArray<string | undefined> = [],
): DesiredState {
  const warnings: RuleWarning[] = [];
  const alerts: DesiredAlert[] = [];
  const compiled = compileRules(rules, snapshot, domains, warnings);
  const rulesMatching = groupRuleMatcher(snapshot.edges, compiled.map((c) => c.groupIds));
  // a user is checked against the group rules they matched and every rule that names no group, in rule order
  const ungrouped = compiled.flatMap((c, index) => (c.groupIds ? [] : [index]));
  const people = new Map<string, Accumulator>();

  for (let i = 0; i < snapshot.users.length; i++) {
    const user = snapshot.users[i]!;
    const key = personKeys[i] ?? emailPersonKey(user);
    let acc = people.get(key);
    if (!acc) {
      // arrays made with their first element: `[]` then push reserves 17 slots, and three such arrays were
      // most of a person's 740 bytes in a 1M-user plan
      acc = { key, idpUserIds: [user.id], connectionIds: [user.connectionId], email: user.email ?? user.userName, displayName: user.displayName,
        state: "unassigned", deleted: false, role: null, roleRule: null, grants: NO_GRANTS, inactive: false,
        liveConnections: user.deleted ? [] : null, deletedConnections: user.deleted ? [user.connectionId] : null, matched: false, grantsByDomain: null };
      people.set(key, acc);
    } else {
      acc.idpUserIds.push(user.id);
      if (user.deleted) {
        // the first deleted identity: the live connections so far are those seen before it
        acc.liveConnections ??= [...acc.connectionIds];
        addOnce(acc.deletedConnections ??= [], user.connectionId);
      } else if (acc.liveConnections !== null) addOnce(acc.liveConnections, user.connectionId);
      addOnce(acc.connectionIds, user.connectionId);
    }
    if (user.deleted) continue;
    if (!user.active) acc.inactive = true;
    if (user.email) acc.email = user.email;

    const byGroup = rulesMatching(user.id);
    const candidates = byGroup.size === 0 ? ungrouped : [...byGroup, ...ungrouped].sort((a, b) => a - b);
    for (const index of candidates) {
      const { rule } = compiled[index]!;
      // only an attributes rule finds values that grant nothing
      const sources = ruleAccess(compiled[index]!, user, domains, !rule.attributes ? ignoreFindings : (unknown) => {
        for (const problem of unknown) {
          warnings.push({ rule: rule.name, line: rule.line, message: `${user.userName}: ${problem}; it grants nothing` });
          alerts.push({ personKey: key, detail: `${user.userName}: ${problem}; it grants nothing (rule ${rule.name})` });
        }
      });
      if (sources.length === 0) continue;
      acc.matched = true;
      // one precedence for every source: the highest role wins, write beats read; domain access alone makes a member
      for (const source of sources) {
        raiseRole(acc, source.role ?? "member", source.label);
        for (const g of source.grants) addGrant(acc, g.domainId, g.access, source.label);
      }
    }
    if (!acc.matched && rules.defaultRole === "member") {
      acc.matched = true;
      raiseRole(acc, "member", "default");
    }
  }

  for (const acc of people.values()) {
    // a deletion counts unless the same IdP knows the person again (re-created with a new id)
    const live = acc.liveConnections ?? acc.connectionIds;
    const deletedSomewhere = acc.deletedConnections !== null && acc.deletedConnections.some((c) => !live.includes(c));
    acc.state = acc.inactive || deletedSomewhere ? "departed" : acc.matched ? "assigned" : "unassigned";
    acc.deleted = live.length === 0;
    if (acc.state !== "assigned") {
      acc.role = null;
      acc.roleRule = null;
    }
    if (acc.role === "member" && acc.grantsByDomain) acc.grants = [...acc.grantsByDomain.values()].sort((a, b) => (a.domainId < b.domainId ? -1 : a.domainId > b.domainId ? 1 : 0));
    acc.grantsByDomain = null;
  }
  return { people, warnings, alerts };
}
