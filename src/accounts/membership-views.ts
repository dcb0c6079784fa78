// Read views over the membership tables for operators: members, the access review, audit, runs, keys.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { loadAuditNames, readableAudit, type AuditRow, type ReadableAuditRow } from "../audit/audit-names.ts";

export async function listMembers(db: Executor, accountId: string) {
  const { rows } = await runSql(db, `
    select u.email, u.id as user_id, m.role, m.status, coalesce(c.name, 'manual') as managed_by, m.managed_by_rule as rule,
      coalesce((select json_agg(json_build_object('domain', d.name, 'access', g.access, 'managed', g.managed_by_connection_id is not null) order by d.name)
        from domain_grants g join sending_domains d on d.id = g.domain_id where g.membership_id = m.id), '[]') as grants
    from memberships m join users u on u.id = m.user_id left join directory_connections c on c.id = m.managed_by_connection_id
    where m.account_id = ? order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, lower(u.email)`, [accountId]);
  return rows;
}

/** Every person, their role and domain access, the rule and source that grant it, and since when. */
export async function accessReview(db: Executor, accountId: string) {
  const { rows } = await runSql(db, `
    select u.email, u.id as user_id, m.role, m.status, coalesce(c.name, 'manual') as source, coalesce(m.managed_by_rule, '-') as rule, m.created_at as member_since,
      case when m.role in ('owner', 'admin') then json_build_array(json_build_object('domain', 'every domain', 'access', 'write', 'rule', m.managed_by_rule, 'since', m.updated_at))
      else coalesce((select json_agg(json_build_object('domain', d.name, 'access', g.access, 'rule', coalesce(g.managed_by_rule, 'manual'), 'since', g.updated_at) order by d.name)
        from domain_grants g join sending_domains d on d.id = g.domain_id where g.membership_id = m.id), '[]') end as access
    from memberships m join users u on u.id = m.user_id left join directory_connections c on c.id = m.managed_by_connection_id
    where m.account_id = ? order by lower(u.email)`, [accountId]);
  return rows;
}

export interface AuditFilter {
  /** Rows older than this id (paging backwards). */
  readonly before?: number;
  /** An action (`key.revoked`) or a prefix ending in a dot (`member.`). */
  readonly action?: string;
  readonly actor?: string;
  readonly runId?: string;
  readonly targetId?: string;
  /**
   * Rows about one person (an app user id): those targeting them, their API keys, alerts about them,
   * and ownership handed to or from them.
   */
  readonly userId?: string;
}

const ABOUT_USER = `((target_type = 'user' and target_id = ?)
  or (target_type = 'api_key' and target_id in (select id::text from api_keys where created_by_user_id = ?::uuid))
  or after ->> 'userId' = ? or before ->> 'userId' = ?
  or (action = 'owner.transferred' and (before ->> 'owner' = ? or after ->> 'owner' = ?)))`;

export async function listAudit(db: Executor, accountId: string, limit: number, filter: AuditFilter = {}): Promise<ReadableAuditRow[]> {
  const where: string[] = [];
  const bindings: unknown[] = [accountId];
  const and = (condition: string, value: unknown) => {
    where.push(condition);
    bindings.push(value);
  };
  if (filter.before) and("id < ?", filter.before);
  if (filter.action) and(filter.action.endsWith(".") ? "action like ? || '%'" : "action = ?", filter.action);
  if (filter.actor) and("actor = ?", filter.actor);
  if (filter.runId) and("run_id = ?::uuid", filter.runId);
  if (filter.targetId) and("target_id = ?", filter.targetId);
  if (filter.userId) {
    where.push(ABOUT_USER);
    bindings.push(...Array<string>(6).fill(filter.userId));
  }
  const { rows } = await runSql<AuditRow>(db, `
    select id::int, occurred_at, actor, action, target_type, target_id, before, after, connection_id, rule, run_id
    from audit_log where account_id = ? ${where.map((w) => `and ${w}`).join(" ")} order by id desc limit ?`, [...bindings, limit]);
  return readableAudit(rows, await loadAuditNames(db, rows));
}

export async function listRuns(db: Executor, accountId: string, limit = 50) {
  const { rows } = await runSql(db, `
    select id, kind, status, trigger, connection_id, started_at, finished_at, api_calls,
      -- the run's own work; a held run's wait for an operator is held_at → decided_at, apart
      coalesce(duration_ms, (extract(epoch from finished_at - started_at) * 1000)::int) as duration_ms,
      held_at, decided_at, decided_by, superseded_by, counts, error
    from sync_runs where account_id = ? order by started_at desc limit ?`, [accountId, limit]);
  return rows;
}

export async function findRun(db: Executor, runId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(runId)) return undefined;
  const { rows: [run] } = await runSql(db, `select id, account_id, kind, status, trigger, started_at, finished_at, held_at, decided_at, decided_by, superseded_by, counts, plan, error from sync_runs where id = ?`, [runId]);
  return run;
}

export async function listKeys(db: Executor, accountId: string) {
  const { rows } = await runSql(db, `
    select k.id, u.email as created_by, k.name, k.token_prefix, k.scope, k.created_at, k.last_used_at, k.revoked_at, k.revoked_reason,
      coalesce((select array_agg(d.name order by d.name) from api_key_domains a join sending_domains d on d.id = a.domain_id where a.api_key_id = k.id), '{}') as domains
    from api_keys k join users u on u.id = k.created_by_user_id where k.account_id = ? order by k.created_at desc`, [accountId]);
  return rows;
}

export async function userIdByEmail(db: Executor, email: string): Promise<string | undefined> {
  const { rows: [row] } = await runSql<{ id: string }>(db, `select id from users where lower(email) = lower(?)`, [email]);
  return row?.id;
}

export async function planNames(db: Executor, accountId: string) {
  const users = await runSql<{ id: string; email: string }>(db, `
    select u.id, u.email from users u where exists (select 1 from memberships m where m.user_id = u.id and m.account_id = ?)
      or exists (select 1 from user_identities i where i.user_id = u.id and i.account_id = ?)`, [accountId, accountId]);
  const domains = await runSql<{ id: string; name: string }>(db, `select id, name from sending_domains where account_id = ?`, [accountId]);
  return { users: new Map(users.rows.map((u) => [u.id, u.email])), domains: new Map(domains.rows.map((d) => [d.id, d.name])) };
}
