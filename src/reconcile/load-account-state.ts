// Reads what the planner compares: the account's rules, domains and membership tables.
import { runSql } from "../db/run-sql.ts";
import { oneCopyEach } from "../db/one-copy-each.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { loadSnapshotGroups, loadSnapshotUsers, type AccountSnapshot } from "../snapshot/account-snapshot.ts";
import { ownerCandidateSources } from "../mapping/owner-candidates.ts";
import { groupsMatching } from "../mapping/group-selector.ts";
import { groupsUnderRules } from "../mapping/group-closure.ts";
import { coreAttributesUnread } from "../mapping/resource-reads.ts";
import { expandScope, MAX_SCOPED_USERS } from "./reconcile-scope.ts";
import type { AccountPlanInput } from "./plan-account.ts";
import { EMPTY_RULES, type MappingRules } from "../mapping/mapping-rules.ts";
import { parseRulesDocument } from "../mapping/rules-document.ts";
import type { Domain } from "../mapping/domain-patterns.ts";
import type { ActualKey, ActualMember, ActualState, AppUser } from "./actual-state.ts";

/** Parsed rules by document text: parsing the YAML cost a one-person reconcile more than its queries. */
const parsedRules = new Map<string, MappingRules>();
const PARSED_RULES_KEPT = 64;

function parsedRulesOf(document: string): MappingRules {
  let rules = parsedRules.get(document);
  if (!rules) {
    rules = parseRulesDocument(document);
    if (parsedRules.size >= PARSED_RULES_KEPT) parsedRules.delete(parsedRules.keys().next().value!);
    parsedRules.set(document, rules);
  }
  return rules;
}

export async function loadRules(db: Executor, accountId: string): Promise<MappingRules> {
  const { rows: [row] } = await runSql<{ document: string }>(db, `select document from account_rules where account_id = ?`, [accountId]);
  return row ? parsedRulesOf(row.document) : EMPTY_RULES;
}

export async function loadDomains(db: Executor, accountId: string): Promise<Domain[]> {
  const { rows } = await runSql<Domain>(db, `select id, name from sending_domains where account_id = ? order by name`, [accountId]);
  return rows;
}

function groupCount(rows: Array<{ key: string; n: number }>): Map<string, number> {
  return new Map(rows.map((r) => [r.key, r.n]));
}

/**
 * The membership tables as the planner compares them. Whole, or (`scoped`) restricted to the people a
 * scoped snapshot makes up plus the owner and the configured successor (`successorEmail`), whom
 * ownership depends on.
 */
export async function loadActualState(db: Executor, accountId: string, snapshot: AccountSnapshot, successorEmail: string | null, scoped?: boolean): Promise<ActualState> {
  let identities, users, only: string[] | undefined;
  if (scoped) {
    identities = await runSql(db, `select idp_user_id, user_id from user_identities where idp_user_id = any(?::uuid[])`, [snapshot.users.map((u) => u.id)]);
    const emails = [...new Set([...snapshot.users.map((u) => (u.email ?? u.userName).toLowerCase()), ...(successorEmail ? [successorEmail.toLowerCase()] : [])])];
    users = await runSql<{ id: string; email: string }>(db, `select id, email from users where lower(email) = any(?::text[])`, [emails]);
    const { rows: owners } = await runSql<{ user_id: string }>(db, `select user_id from memberships where account_id = ? and role = 'owner'`, [accountId]);
    only = [...new Set([...identities.rows.map((r) => r.user_id), ...users.rows.map((u) => u.id), ...owners.map((o) => o.user_id)])];
  }
  const memberFilter = only ? " and m.user_id = any(?::uuid[])" : "";
  const by = (bindings: unknown[]) => (only ? [...bindings, only] : bindings);
  const members = await runSql(db,
    `select m.user_id, u.email, m.role, m.status, m.suspended_at, m.managed_by_connection_id, m.managed_by_rule
     from memberships m join users u on u.id = m.user_id where m.account_id = ?${memberFilter}`, by([accountId]));
  const grants = await runSql(db,
    `select m.user_id, g.domain_id, g.access, g.managed_by_connection_id is not null as managed, g.managed_by_rule
     from domain_grants g join memberships m on m.id = g.membership_id where g.account_id = ?${memberFilter}`, by([accountId]));
  const keys = await runSql(db,
    `select k.id, k.created_by_user_id, k.scope, k.last_used_at,
       coalesce((select array_agg(d.domain_id order by d.domain_id) from api_key_domains d where d.api_key_id = k.id), '{}') as domain_ids
     from api_keys k where k.account_id = ? and k.revoked_at is null${only ? " and k.created_by_user_id = any(?::uuid[])" : ""}`, by([accountId]));
  // the counts and the connections in one round trip: a one-person reconcile is mostly waiting on them
  const memberEmails = only ? members.rows.map((m) => String(m.email).toLowerCase()) : [];
  const counted = await runSql<{ kind: "session" | "sent" | "addressed" | "connection"; key: string; n: number }>(db,
    `select 'session' as kind, user_id::text as key, count(*)::int as n from sessions
     where account_id = ? and revoked_at is null and expires_at > now()${only ? " and user_id = any(?::uuid[])" : ""} group by user_id
     union all select 'sent', invited_by_user_id::text, count(*)::int from invitations
     where account_id = ? and status = 'pending' and invited_by_user_id is not null${only ? " and invited_by_user_id = any(?::uuid[])" : ""}
     group by invited_by_user_id
     union all select 'addressed', lower(email), count(*)::int from invitations
     where account_id = ? and status = 'pending'${only ? " and lower(email) = any(?::text[])" : ""} group by lower(email)
     union all select 'connection', id::text, 0 from directory_connections where account_id = ?`,
    [...by([accountId]), ...by([accountId]), ...(only ? [accountId, memberEmails] : [accountId]), accountId]);
  const countsOf = (kind: string) => counted.rows.filter((r) => r.kind === kind);
  const sessionCount = groupCount(countsOf("session"));
  const sentCount = groupCount(countsOf("sent"));
  const grantsBy = new Map<string, ActualMember["grants"][number][]>();
  for (const g of grants.rows) {
    const grant = { domainId: g.domain_id, access: g.access, managed: g.managed, rule: g.managed_by_rule };
    const list = grantsBy.get(g.user_id);
    if (list) list.push(grant);
    else grantsBy.set(g.user_id, [grant]);
  }
  const keysBy = new Map<string, ActualKey[]>();
  for (const k of keys.rows) {
    const key: ActualKey = { keyId: k.id, scope: k.scope, domainIds: k.domain_ids, lastUsedAt: k.last_used_at ? new Date(k.last_used_at).toISOString() : null };
    const list = keysBy.get(k.created_by_user_id);
    if (list) list.push(key);
    else keysBy.set(k.created_by_user_id, [key]);
  }
  const none: never[] = [];
  // roles, statuses, connections and rules: a handful of values, one copy each
  const shared = oneCopyEach();
  // built between the queries, not all at the end: each a shorter hold of the event loop; by loops, not
  // from arrays of [key, value] pairs (a million of them, garbage at once)
  const membersByUser = new Map<string, ActualMember>();
  for (const m of members.rows) {
    membersByUser.set(m.user_id, {
      userId: m.user_id, email: m.email, role: shared(m.role), status: shared(m.status),
      suspendedAt: m.suspended_at ? new Date(m.suspended_at).toISOString() : null, managedBy: shared(m.managed_by_connection_id), rule: shared(m.managed_by_rule),
      grants: grantsBy.get(m.user_id) ?? none, keys: keysBy.get(m.user_id) ?? none,
      activeSessions: sessionCount.get(m.user_id) ?? 0, pendingInvitations: sentCount.get(m.user_id) ?? 0,
    });
  }
  if (!scoped) identities = await runSql(db, `select idp_user_id, user_id from user_identities where account_id = ?`, [accountId]);
  const linked = new Map<string, string>();
  for (const r of identities!.rows) linked.set(r.idp_user_id, r.user_id);
  if (!scoped) {
    // only the app users the planner looks up by email: those an unlinked IdP user's email names (to link
    // them), those a linked one's changed email names (a conflict) and the successor. A linked account
    // whose emails are unchanged reads none, not 100,000; joined in the database, not sent as an array.
    users = await runSql<{ id: string; email: string }>(db,
      `select id, email from users where lower(email) in (
         select lower(coalesce(i.email, i.user_name)) from idp_users i
           left join user_identities ui on ui.idp_user_id = i.id left join users linked on linked.id = ui.user_id
         where i.account_id = ? and (linked.id is null or lower(linked.email) <> lower(coalesce(i.email, i.user_name)))
         union select lower(?::text))`, [accountId, successorEmail]);
  }

  return {
    members: membersByUser,
    identities: linked,
    usersByEmail: new Map(users!.rows.map((u) => [u.email.toLowerCase(), { userId: u.id, email: u.email } satisfies AppUser])),
    invitationsTo: groupCount(countsOf("addressed")),
    connectionIds: new Set(countsOf("connection").map((c) => c.key)),
  };
}

/**
 * Everything the planner needs, loaded one query after another on the run's transaction. With
 * `requested` IdP users, only the people they make up (and those ownership depends on) are loaded,
 * unless an owner rule by filter could make anyone owner or too many were requested: then the whole account.
 */
export async function loadPlanInput(db: Executor, accountId: string, requested: readonly string[] | null, now: number): Promise<AccountPlanInput & { scoped: boolean }> {
  // the rules and the domains in one round trip (loadRules and loadDomains, as one query)
  const { rows: [row] } = await runSql<{ document: string | null; domains: Domain[] }>(db,
    `select (select document from account_rules where account_id = ?) as document,
       coalesce((select json_agg(json_build_object('id', id, 'name', name) order by name) from sending_domains where account_id = ?), '[]'::json) as domains`,
    [accountId, accountId]);
  const rules = row!.document === null ? EMPTY_RULES : parsedRulesOf(row!.document);
  const domains = row!.domains;
  // the rules' groups only (a rule names a group by selector; unnamed groups count through the edges alone)
  const { groups, groupEdges } = await loadSnapshotGroups(db, accountId, rules.rules.flatMap((r) => (r.group === undefined ? [] : [r.group])));
  const owners = requested && requested.length <= MAX_SCOPED_USERS ? ownerCandidateSources(rules, groups, groupEdges) : null;
  const only = owners ? await expandScope(db, accountId, { requestedIdpUserIds: requested!, owners, successorEmail: rules.policy.ownerSuccessor }) : undefined;
  const ruleGroupIds = rules.rules.flatMap((r) => (r.group === undefined ? [] : groupsMatching(groups, r.group).map((g) => g.id)));
  const { users, userEdges } = await loadSnapshotUsers(db, accountId, only, groupsUnderRules(ruleGroupIds, groupEdges), coreAttributesUnread(rules));
  // the user edges into the rules' groups only: the others match no rule, for the desired state and the facts alike
  const snapshot = { users, groups, edges: [...groupEdges, ...userEdges] };
  const actual = await loadActualState(db, accountId, snapshot, rules.policy.ownerSuccessor, only !== undefined);
  return { snapshot, rules, domains, actual, now, scoped: only !== undefined };
}
