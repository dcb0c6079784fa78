// Reads what the planner compares: the account's rules, domains and membership tables.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import type { AccountSnapshot } from "../snapshot/account-snapshot.ts";
import { EMPTY_RULES, type MappingRules } from "../mapping/mapping-rules.ts";
import { parseRulesDocument } from "../mapping/rules-document.ts";
import type { Domain } from "../mapping/domain-patterns.ts";
import type { ActualKey, ActualMember, ActualState, AppUser } from "./actual-state.ts";

export async function loadRules(db: Executor, accountId: string): Promise<MappingRules> {
  const { rows: [row] } = await runSql<{ document: string }>(db, `select document from account_rules where account_id = ?`, [accountId]);
  return row ? parseRulesDocument(row.document) : EMPTY_RULES;
}

export async function loadDomains(db: Executor, accountId: string): Promise<Domain[]> {
  const { rows } = await runSql<Domain>(db, `select id, name from sending_domains where account_id = ? order by name`, [accountId]);
  return rows;
}

function groupCount(rows: Array<{ key: string; n: number }>): Map<string, number> {
  return new Map(rows.map((r) => [r.key, r.n]));
}

export async function loadActualState(db: Executor, accountId: string, snapshot: AccountSnapshot): Promise<ActualState> {
  const members = await runSql(db,
    `select m.user_id, u.email, m.role, m.status, m.suspended_at, m.managed_by_connection_id
     from memberships m join users u on u.id = m.user_id where m.account_id = ?`, [accountId]);
  const grants = await runSql(db,
    `select m.user_id, g.domain_id, g.access, g.managed_by_connection_id is not null as managed
     from domain_grants g join memberships m on m.id = g.membership_id where g.account_id = ?`, [accountId]);
  const keys = await runSql(db,
    `select k.id, k.created_by_user_id, k.scope, k.last_used_at,
       coalesce((select array_agg(d.domain_id order by d.domain_id) from api_key_domains d where d.api_key_id = k.id), '{}') as domain_ids
     from api_keys k where k.account_id = ? and k.revoked_at is null`, [accountId]);
  const sessions = await runSql(db,
    `select user_id as key, count(*)::int as n from sessions where account_id = ? and revoked_at is null and expires_at > now() group by user_id`, [accountId]);
  const sent = await runSql(db,
    `select invited_by_user_id as key, count(*)::int as n from invitations
     where account_id = ? and status = 'pending' and invited_by_user_id is not null group by invited_by_user_id`, [accountId]);
  const addressed = await runSql(db,
    `select lower(email) as key, count(*)::int as n from invitations where account_id = ? and status = 'pending' group by lower(email)`, [accountId]);
  const identities = await runSql(db, `select idp_user_id, user_id from user_identities where account_id = ?`, [accountId]);
  const connections = await runSql(db, `select id from directory_connections where account_id = ?`, [accountId]);
  const emails = [...new Set([...snapshot.users.map((u) => (u.email ?? u.userName).toLowerCase()), ...members.rows.map((m) => String(m.email).toLowerCase())])];
  const users = await runSql<{ id: string; email: string }>(db, `select id, email from users where lower(email) = any(?::text[])`, [emails]);

  const sessionCount = groupCount(sessions.rows);
  const sentCount = groupCount(sent.rows);
  const grantsBy = new Map<string, ActualMember["grants"][number][]>();
  for (const g of grants.rows) grantsBy.set(g.user_id, [...(grantsBy.get(g.user_id) ?? []), { domainId: g.domain_id, access: g.access, managed: g.managed }]);
  const keysBy = new Map<string, ActualKey[]>();
  for (const k of keys.rows) {
    const key: ActualKey = { keyId: k.id, scope: k.scope, domainIds: k.domain_ids, lastUsedAt: k.last_used_at ? new Date(k.last_used_at).toISOString() : null };
    keysBy.set(k.created_by_user_id, [...(keysBy.get(k.created_by_user_id) ?? []), key]);
  }
  return {
    members: new Map(members.rows.map((m) => [m.user_id, {
      userId: m.user_id, email: m.email, role: m.role, status: m.status,
      suspendedAt: m.suspended_at ? new Date(m.suspended_at).toISOString() : null, managedBy: m.managed_by_connection_id,
      grants: grantsBy.get(m.user_id) ?? [], keys: keysBy.get(m.user_id) ?? [],
      activeSessions: sessionCount.get(m.user_id) ?? 0, pendingInvitations: sentCount.get(m.user_id) ?? 0,
    } satisfies ActualMember])),
    identities: new Map(identities.rows.map((r) => [r.idp_user_id, r.user_id])),
    usersByEmail: new Map(users.rows.map((u) => [u.email.toLowerCase(), { userId: u.id, email: u.email } satisfies AppUser])),
    invitationsTo: groupCount(addressed.rows),
    connectionIds: new Set(connections.rows.map((c) => c.id)),
  };
}
