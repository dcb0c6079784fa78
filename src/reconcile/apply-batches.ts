// How each action type is written: one set-based statement per run of actions of that type (rows
// travel as one array per column and chunk, read with unnest), and an audit row and an event per
// action, both written by one statement per chunk at the end of the plan. Ownership transfers and
// alerts are rare and order-sensitive: one at a time.
import { runSql } from "../db/run-sql.ts";
import { columnArrays, runChunkedColumns, unnestRows, type Columns } from "../db/chunked-columns.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import type { PlanAction } from "./plan.ts";
import type { AnalyzedTable, WrittenRows } from "../db/table-statistics.ts";

export interface ApplyContext {
  readonly accountId: string;
  readonly runId: string;
  readonly actor: string;
}

interface ChangeRecord {
  readonly event: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly action: PlanAction;
}

export class ApplyState {
  /** `new:` person keys → the app user ids created for them. */
  readonly created = new Map<string, string>();
  private readonly records: ChangeRecord[] = [];
  constructor(readonly trx: Executor, readonly ctx: ApplyContext) {}

  userId(key: string): string {
    return this.created.get(key) ?? key;
  }

  record(action: PlanAction, event: string, target: { type: string; id: string }, before: unknown, after: unknown): void {
    this.records.push({ event, targetType: target.type, targetId: target.id, before, after, action });
  }

  bulk<Row extends Readonly<Record<string, unknown>>>(sql: string, rows: readonly Row[], columns: Columns,
    bind?: (arrays: unknown[][], chunk: readonly Row[]) => unknown[]): Promise<Array<Record<string, unknown>>> {
    return runChunkedColumns(this.trx, sql, rows, columns, bind);
  }

  /**
   * The audit rows and events of every change recorded, in the order recorded: one statement per chunk
   * writes both, each change's values sent once (the event's payload is built from them in SQL).
   */
  async flushRecords(): Promise<void> {
    const { accountId, actor, runId } = this.ctx;
    const rows = this.records.map((r) => ({
      action: r.event, target_type: r.targetType, target_id: r.targetId, before: r.before, after: r.after,
      connection_id: r.action.reason.connectionIds?.[0], rule: r.action.reason.rule, reason: r.action.reason,
    }));
    await this.bulk(`with r as (select * from ${unnestRows(RECORD_COLUMNS)}),
      audit as (insert into audit_log (account_id, actor, action, target_type, target_id, before, after, connection_id, rule, run_id)
        select ?, ?, action, target_type, target_id, before, after, connection_id, rule, ? from r order by ord)
      insert into events (account_id, type, payload, run_id)
      select ?, action, jsonb_build_object('target', jsonb_build_object('type', target_type, 'id', target_id), 'before', before, 'after', after, 'reason', reason), ?
      from r order by ord`, rows, RECORD_COLUMNS, (arrays) => [...arrays, accountId, actor, runId, accountId, runId]);
    this.records.length = 0;
  }
}

const RECORD_COLUMNS: Columns = {
  action: "text", target_type: "text", target_id: "text", before: "jsonb", after: "jsonb", connection_id: "uuid", rule: "text", reason: "jsonb",
};

type Of<T extends PlanAction["type"]> = Extract<PlanAction, { type: T }>;
type Batch<T extends PlanAction["type"]> = (s: ApplyState, actions: Array<Of<T>>) => Promise<void>;

/** Rows naming one app user each. */
const USER: Columns = { user_id: "uuid" };

const connectionOf = (a: PlanAction) => a.reason.connectionIds?.[0] ?? null;
const ruleOf = (a: PlanAction) => a.reason.rule ?? null;

/** Fails the plan when a statement touched fewer rows than it had actions: the plan no longer fits the tables. */
function expectAll(done: number, actions: readonly PlanAction[], what: string): void {
  if (done !== actions.length) throw new Error(`plan refers to rows that do not exist: ${what} wrote ${done} of ${actions.length}`);
}

const NEW_USER: Columns = { email: "text", display_name: "text" };
const NEW_IDENTITY: Columns = { idp_user_id: "uuid", email: "text" };

const createUsers: Batch<"create_user"> = async (s, actions) => {
  // the users and their identities (found by the users' emails) in one statement per chunk
  const rows = await s.bulk(`with created as (
      insert into users (email, display_name) select email, display_name from ${unnestRows(NEW_USER)}
      on conflict (lower(email)) do update set updated_at = now() returning id, lower(email) as email),
    identities as (insert into user_identities (idp_user_id, user_id, account_id, linked_via, linked_by_run_id)
      select i.idp_user_id, c.id, ?, 'created', ? from ${unnestRows(NEW_IDENTITY, "i")} join created c on c.email = lower(i.email))
    select id, email from created`,
    actions.map((a) => ({ email: a.email, display_name: a.displayName, idpUserIds: a.idpUserIds })), NEW_USER,
    (arrays, chunk) => [...arrays, s.ctx.accountId, s.ctx.runId,
      ...columnArrays(chunk.flatMap((u) => u.idpUserIds.map((idp) => ({ idp_user_id: idp, email: u.email }))), NEW_IDENTITY)]);
  const byEmail = new Map(rows.map((r) => [r.email as string, r.id as string]));
  for (const a of actions) s.created.set(a.key, byEmail.get(a.email.toLowerCase())!);
  for (const a of actions) s.record(a, "user.created", { type: "user", id: s.userId(a.key) }, null, { email: a.email, idpUserIds: a.idpUserIds });
};

const linkIdentities: Batch<"link_identity"> = async (s, actions) => {
  const link: Columns = { idp_user_id: "uuid", user_id: "uuid", via: "text" };
  await s.bulk(`insert into user_identities (idp_user_id, user_id, account_id, linked_via, linked_by_run_id)
    select r.idp_user_id, r.user_id, ?, r.via, ? from ${unnestRows(link)} order by ord
    on conflict (idp_user_id) do update set user_id = excluded.user_id, linked_via = excluded.linked_via, linked_at = now()`,
    actions.map((a) => ({ idp_user_id: a.idpUserId, user_id: a.userId, via: a.via })), link, (arrays) => [s.ctx.accountId, s.ctx.runId, ...arrays]);
  // linking a manually added member under link_by_email hands that membership to the IdP
  const handOver: Columns = { user_id: "uuid", connection_id: "uuid", rule: "text" };
  await s.bulk(`update memberships m set managed_by_connection_id = r.connection_id, managed_by_rule = r.rule, managed_by_run_id = ?, updated_at = now()
    from ${unnestRows(handOver)}
    where m.account_id = ? and m.user_id = r.user_id and m.managed_by_connection_id is null`,
    actions.filter((a) => a.via === "policy-email").map((a) => ({ user_id: a.userId, connection_id: connectionOf(a), rule: ruleOf(a) })), handOver,
    (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "identity.linked", { type: "user", id: a.userId }, null, { idpUserId: a.idpUserId, via: a.via });
};

const updateEmails: Batch<"update_email"> = async (s, actions) => {
  const email: Columns = { user_id: "uuid", email: "text" };
  await s.bulk(`update users u set email = r.email, updated_at = now() from ${unnestRows(email)} where u.id = r.user_id`,
    actions.map((a) => ({ user_id: a.userId, email: a.to })), email);
  for (const a of actions) s.record(a, "user.email_changed", { type: "user", id: a.userId }, { email: a.from }, { email: a.to });
};

const addMembers: Batch<"add_member"> = async (s, actions) => {
  const member: Columns = { user_id: "uuid", role: "text", connection_id: "uuid", rule: "text" };
  await s.bulk(`insert into memberships (account_id, user_id, role, managed_by_connection_id, managed_by_rule, managed_by_run_id)
    select ?, r.user_id, r.role, r.connection_id, r.rule, ? from ${unnestRows(member)} order by ord`,
    actions.map((a) => ({ user_id: s.userId(a.userKey), role: a.role, connection_id: connectionOf(a), rule: ruleOf(a) })), member, (arrays) => [s.ctx.accountId, s.ctx.runId, ...arrays]);
  for (const a of actions) s.record(a, "member.added", { type: "user", id: s.userId(a.userKey) }, null, { role: a.role });
};

const changeRoles: Batch<"change_role"> = async (s, actions) => {
  const role: Columns = { user_id: "uuid", role: "text", rule: "text" };
  const done = await s.bulk(`update memberships m set role = r.role, managed_by_rule = r.rule, managed_by_run_id = ?, updated_at = now()
    from ${unnestRows(role)} where m.account_id = ? and m.user_id = r.user_id returning m.id`,
    actions.map((a) => ({ user_id: a.userId, role: a.to, rule: ruleOf(a) })), role, (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  expectAll(done.length, actions, "change_role");
  for (const a of actions) s.record(a, "member.role_changed", { type: "user", id: a.userId }, { role: a.from }, { role: a.to });
};

const transferOwnership: Batch<"transfer_ownership"> = async (s, actions) => {
  for (const a of actions) {
    const to = s.userId(a.to);
    // demote first: at most one owner at any statement; exactly one is checked at commit
    if (a.from) await runSql(s.trx, `update memberships set role = 'admin', updated_at = now() where account_id = ? and user_id = ? and role = 'owner'`, [s.ctx.accountId, a.from]);
    await runSql(s.trx, `update memberships set role = 'owner', managed_by_run_id = ?, updated_at = now() where account_id = ? and user_id = ?`, [s.ctx.runId, s.ctx.accountId, to]);
    s.record(a, "owner.transferred", { type: "account", id: s.ctx.accountId }, { owner: a.from }, { owner: to });
  }
};

const grantDomains: Batch<"grant_domain"> = async (s, actions) => {
  const grant: Columns = { user_id: "uuid", domain_id: "uuid", access: "text", connection_id: "uuid", rule: "text" };
  const done = await s.bulk(`insert into domain_grants (account_id, membership_id, domain_id, access, managed_by_connection_id, managed_by_rule, managed_by_run_id)
    select m.account_id, m.id, r.domain_id, r.access, r.connection_id, r.rule, ?
    from ${unnestRows(grant)}
    join memberships m on m.account_id = ? and m.user_id = r.user_id order by r.ord returning domain_grants.id`,
    actions.map((a) => ({ user_id: s.userId(a.userKey), domain_id: a.domainId, access: a.access, connection_id: connectionOf(a), rule: ruleOf(a) })), grant,
    (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  expectAll(done.length, actions, "grant_domain");
  for (const a of actions) s.record(a, "domain.granted", { type: "user", id: s.userId(a.userKey) }, null, { domainId: a.domainId, access: a.access });
};

const changeAccess: Batch<"change_access"> = async (s, actions) => {
  const access: Columns = { user_id: "uuid", domain_id: "uuid", access: "text", rule: "text" };
  await s.bulk(`update domain_grants g set access = r.access, managed_by_rule = r.rule, managed_by_run_id = ?, updated_at = now()
    from ${unnestRows(access)}, memberships m
    where m.account_id = ? and m.user_id = r.user_id and g.membership_id = m.id and g.domain_id = r.domain_id and g.managed_by_connection_id is not null`,
    actions.map((a) => ({ user_id: a.userId, domain_id: a.domainId, access: a.to, rule: ruleOf(a) })), access, (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "domain.access_changed", { type: "user", id: a.userId }, { domainId: a.domainId, access: a.from }, { domainId: a.domainId, access: a.to });
};

const revokeDomains: Batch<"revoke_domain"> = async (s, actions) => {
  const grant: Columns = { user_id: "uuid", domain_id: "uuid" };
  await s.bulk(`delete from domain_grants g using ${unnestRows(grant)}, memberships m
    where m.account_id = ? and m.user_id = r.user_id and g.membership_id = m.id and g.domain_id = r.domain_id and g.managed_by_connection_id is not null`,
    actions.map((a) => ({ user_id: a.userId, domain_id: a.domainId })), grant, (arrays) => [...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "domain.revoked", { type: "user", id: a.userId }, { domainId: a.domainId }, null);
};

const narrowKeys: Batch<"narrow_key"> = async (s, actions) => {
  const keyDomain: Columns = { key_id: "uuid", domain_id: "uuid" };
  await s.bulk(`delete from api_key_domains d using ${unnestRows(keyDomain)}
    where d.api_key_id = r.key_id and d.domain_id = r.domain_id`,
    actions.flatMap((a) => a.removeDomainIds.map((domainId) => ({ key_id: a.keyId, domain_id: domainId }))), keyDomain);
  for (const a of actions) s.record(a, "key.narrowed", { type: "api_key", id: a.keyId }, null, { removedDomainIds: a.removeDomainIds });
};

const revokeKeys: Batch<"revoke_key"> = async (s, actions) => {
  const key: Columns = { key_id: "uuid", why: "text" };
  await s.bulk(`update api_keys k set revoked_at = now(), revoked_reason = r.why, revoked_by_run_id = ?
    from ${unnestRows(key)} where k.id = r.key_id and k.account_id = ? and k.revoked_at is null`,
    actions.map((a) => ({ key_id: a.keyId, why: a.reason.event })), key, (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "key.revoked", { type: "api_key", id: a.keyId }, { active: true }, { active: false, why: a.reason.event });
};

const revokeSessions: Batch<"revoke_sessions"> = async (s, actions) => {
  const session: Columns = { user_id: "uuid", why: "text" };
  const revoked = await s.bulk(`update sessions x set revoked_at = now(), revoked_reason = r.why
    from ${unnestRows(session)} where x.account_id = ? and x.user_id = r.user_id and x.revoked_at is null
    returning x.user_id`, actions.map((a) => ({ user_id: a.userId, why: a.reason.event })), session, (arrays) => [...arrays, s.ctx.accountId]);
  const count = countBy(revoked.map((r) => r.user_id as string));
  for (const a of actions) s.record(a, "session.revoked", { type: "user", id: a.userId }, null, { sessions: count.get(a.userId) ?? 0 });
};

const revokeInvitations: Batch<"revoke_invitations"> = async (s, actions) => {
  const invitation: Columns = { user_id: "uuid", email: "text", why: "text" };
  const revoked = await s.bulk(`update invitations i set status = 'revoked', revoked_at = now(), revoked_reason = r.why
    from ${unnestRows(invitation)}
    where i.account_id = ? and i.status = 'pending' and (i.invited_by_user_id = r.user_id or lower(i.email) = lower(r.email))
    returning r.user_id`, actions.map((a) => ({ user_id: a.userId, email: a.email, why: a.reason.event })), invitation, (arrays) => [...arrays, s.ctx.accountId]);
  const count = countBy(revoked.map((r) => r.user_id as string));
  for (const a of actions) s.record(a, "invitation.revoked", { type: "user", id: a.userId }, null, { invitations: count.get(a.userId) ?? 0 });
};

const suspendMembers: Batch<"suspend_member"> = async (s, actions) => {
  const suspension: Columns = { user_id: "uuid", why: "text" };
  await s.bulk(`update memberships m set status = 'suspended', suspended_at = now(), suspended_reason = r.why, managed_by_run_id = ?, updated_at = now()
    from ${unnestRows(suspension)} where m.account_id = ? and m.user_id = r.user_id`,
    actions.map((a) => ({ user_id: a.userId, why: a.reason.event })), suspension, (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "member.deprovisioned", { type: "user", id: a.userId }, { status: "active" }, { status: "suspended", why: a.reason.event });
};

const reactivateMembers: Batch<"reactivate_member"> = async (s, actions) => {
  await s.bulk(`update memberships m set status = 'active', suspended_at = null, suspended_reason = null, managed_by_run_id = ?, updated_at = now()
    from ${unnestRows(USER)} where m.account_id = ? and m.user_id = r.user_id`,
    actions.map((a) => ({ user_id: a.userId })), USER, (arrays) => [s.ctx.runId, ...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "member.reactivated", { type: "user", id: a.userId }, { status: "suspended" }, { status: "active" });
};

const deleteMembers: Batch<"delete_member"> = async (s, actions) => {
  await s.bulk(`delete from memberships m using ${unnestRows(USER)} where m.account_id = ? and m.user_id = r.user_id`,
    actions.map((a) => ({ user_id: a.userId })), USER, (arrays) => [...arrays, s.ctx.accountId]);
  for (const a of actions) s.record(a, "member.removed", { type: "user", id: a.userId }, { status: "suspended" }, null);
};

const raiseAlerts: Batch<"alert"> = async (s, actions) => {
  for (const a of actions) {
    // a lasting condition is stated by every plan and raised once, while it stays open
    const { rowCount } = await runSql(s.trx, `insert into alerts (account_id, kind, user_id, detail, data, run_id)
      select ?, ?, ?, ?, ?::jsonb, ? where not exists (
        select 1 from alerts where account_id = ? and kind = ? and user_id is not distinct from ?::uuid and detail = ? and resolved_at is null)`,
      [s.ctx.accountId, a.kind, a.userId ?? null, a.detail, JSON.stringify(a.data ?? {}), s.ctx.runId, s.ctx.accountId, a.kind, a.userId ?? null, a.detail]);
    if (rowCount > 0) s.record(a, "alert.raised", { type: "alert", id: a.kind }, null, { kind: a.kind, detail: a.detail, ...(a.userId ? { userId: a.userId } : {}) });
  }
};

function countBy(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

export const APPLY_BATCH: { [T in PlanAction["type"]]: Batch<T> } = {
  create_user: createUsers, link_identity: linkIdentities, update_email: updateEmails, add_member: addMembers, reactivate_member: reactivateMembers,
  change_role: changeRoles, transfer_ownership: transferOwnership, grant_domain: grantDomains, change_access: changeAccess,
  revoke_domain: revokeDomains, narrow_key: narrowKeys, revoke_key: revokeKeys, revoke_sessions: revokeSessions,
  revoke_invitations: revokeInvitations, suspend_member: suspendMembers, delete_member: deleteMembers, alert: raiseAlerts,
};

/** The tables with planner statistics (src/db/table-statistics.ts) that each action type's batch writes a row of. */
const TABLES_WRITTEN: { [T in PlanAction["type"]]: readonly AnalyzedTable[] } = {
  create_user: ["users", "user_identities"], link_identity: ["user_identities"], update_email: ["users"], add_member: ["memberships"],
  reactivate_member: ["memberships"], change_role: ["memberships"], transfer_ownership: ["memberships"], grant_domain: ["domain_grants"],
  change_access: ["domain_grants"], revoke_domain: ["domain_grants"], narrow_key: ["api_keys"], revoke_key: ["api_keys"],
  revoke_sessions: ["sessions"], revoke_invitations: ["invitations"], suspend_member: ["memberships"], delete_member: ["memberships", "domain_grants"], alert: [],
};

/** Rows an apply changed, by table, from its actions by type (at least one row per action). */
export function rowsWritten(appliedByType: Readonly<Record<string, number>>): WrittenRows {
  const rows: WrittenRows = {};
  for (const [type, n] of Object.entries(appliedByType)) {
    for (const table of TABLES_WRITTEN[type as PlanAction["type"]] ?? []) rows[table] = (rows[table] ?? 0) + n;
  }
  return rows;
}
