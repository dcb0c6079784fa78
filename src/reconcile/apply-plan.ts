// The only writer of the membership tables. Every action runs inside the caller's transaction and
// writes, in it, an audit row (connection, rule, run, before → after) and an event for the outbox.
// A failure anywhere rolls the whole plan back: a half-applied plan never exists.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { PlanAction } from "./plan.ts";

export interface ApplyContext {
  readonly accountId: string;
  readonly runId: string;
  readonly actor: string;
}

class ApplyState {
  readonly created = new Map<string, string>();
  constructor(readonly trx: Executor, readonly ctx: ApplyContext) {}
  userId(key: string): string {
    return this.created.get(key) ?? key;
  }
}

async function membershipId(s: ApplyState, userId: string): Promise<string> {
  const { rows: [row] } = await runSql<{ id: string }>(s.trx, `select id from memberships where account_id = ? and user_id = ?`, [s.ctx.accountId, userId]);
  if (!row) throw new Error(`plan refers to a membership that does not exist (user ${userId})`);
  return row.id;
}

async function record(s: ApplyState, action: PlanAction, event: string, target: { type: string; id: string }, before: unknown, after: unknown): Promise<void> {
  const connectionId = action.reason.connectionIds?.[0] ?? null;
  await writeAudit(s.trx, { accountId: s.ctx.accountId, actor: s.ctx.actor, action: event, targetType: target.type, targetId: target.id,
    before, after, connectionId, rule: action.reason.rule ?? null, runId: s.ctx.runId });
  await runSql(s.trx, `insert into events (account_id, type, payload, run_id) values (?, ?, ?::jsonb, ?)`,
    [s.ctx.accountId, event, JSON.stringify({ target, before, after, reason: action.reason }), s.ctx.runId]);
}

const provenance = (s: ApplyState, action: PlanAction) => [action.reason.connectionIds?.[0] ?? null, action.reason.rule ?? null, s.ctx.runId];

async function applyAction(s: ApplyState, action: PlanAction): Promise<void> {
  const { trx, ctx } = s;
  switch (action.type) {
    case "create_user": {
      const { rows: [user] } = await runSql<{ id: string }>(trx,
        `insert into users (email, display_name) values (?, ?) on conflict (lower(email)) do update set updated_at = now() returning id`,
        [action.email, action.displayName]);
      s.created.set(action.key, user!.id);
      for (const idp of action.idpUserIds) {
        await runSql(trx, `insert into user_identities (idp_user_id, user_id, account_id, linked_via, linked_by_run_id) values (?, ?, ?, 'created', ?)`,
          [idp, user!.id, ctx.accountId, ctx.runId]);
      }
      return record(s, action, "user.created", { type: "user", id: user!.id }, null, { email: action.email, idpUserIds: action.idpUserIds });
    }
    case "link_identity": {
      await runSql(trx, `insert into user_identities (idp_user_id, user_id, account_id, linked_via, linked_by_run_id) values (?, ?, ?, ?, ?)
        on conflict (idp_user_id) do update set user_id = excluded.user_id, linked_via = excluded.linked_via, linked_at = now()`,
        [action.idpUserId, action.userId, ctx.accountId, action.via, ctx.runId]);
      if (action.via === "policy-email") {
        await runSql(trx, `update memberships set managed_by_connection_id = ?, managed_by_rule = ?, managed_by_run_id = ?, updated_at = now()
          where account_id = ? and user_id = ? and managed_by_connection_id is null`, [...provenance(s, action), ctx.accountId, action.userId]);
      }
      return record(s, action, "identity.linked", { type: "user", id: action.userId }, null, { idpUserId: action.idpUserId, via: action.via });
    }
    case "add_member": {
      const userId = s.userId(action.userKey);
      await runSql(trx, `insert into memberships (account_id, user_id, role, managed_by_connection_id, managed_by_rule, managed_by_run_id) values (?, ?, ?, ?, ?, ?)`,
        [ctx.accountId, userId, action.role, ...provenance(s, action)]);
      return record(s, action, "member.added", { type: "user", id: userId }, null, { role: action.role });
    }
    case "change_role":
      await runSql(trx, `update memberships set role = ?, managed_by_rule = ?, managed_by_run_id = ?, updated_at = now() where account_id = ? and user_id = ?`,
        [action.to, action.reason.rule ?? null, ctx.runId, ctx.accountId, action.userId]);
      return record(s, action, "member.role_changed", { type: "user", id: action.userId }, { role: action.from }, { role: action.to });
    case "transfer_ownership": {
      const to = s.userId(action.to);
      // demote first: at most one owner at any statement; exactly one is checked at commit
      if (action.from) await runSql(trx, `update memberships set role = 'admin', updated_at = now() where account_id = ? and user_id = ? and role = 'owner'`, [ctx.accountId, action.from]);
      await runSql(trx, `update memberships set role = 'owner', managed_by_run_id = ?, updated_at = now() where account_id = ? and user_id = ?`, [ctx.runId, ctx.accountId, to]);
      return record(s, action, "owner.transferred", { type: "account", id: ctx.accountId }, { owner: action.from }, { owner: to });
    }
    case "grant_domain": {
      const userId = s.userId(action.userKey);
      await runSql(trx, `insert into domain_grants (account_id, membership_id, domain_id, access, managed_by_connection_id, managed_by_rule, managed_by_run_id)
        values (?, ?, ?, ?, ?, ?, ?)`, [ctx.accountId, await membershipId(s, userId), action.domainId, action.access, ...provenance(s, action)]);
      return record(s, action, "domain.granted", { type: "user", id: userId }, null, { domainId: action.domainId, access: action.access });
    }
    case "change_access":
      await runSql(trx, `update domain_grants set access = ?, managed_by_rule = ?, managed_by_run_id = ?, updated_at = now()
        where membership_id = ? and domain_id = ? and managed_by_connection_id is not null`,
        [action.to, action.reason.rule ?? null, ctx.runId, await membershipId(s, action.userId), action.domainId]);
      return record(s, action, "domain.access_changed", { type: "user", id: action.userId }, { domainId: action.domainId, access: action.from }, { domainId: action.domainId, access: action.to });
    case "revoke_domain":
      await runSql(trx, `delete from domain_grants where membership_id = ? and domain_id = ? and managed_by_connection_id is not null`,
        [await membershipId(s, action.userId), action.domainId]);
      return record(s, action, "domain.revoked", { type: "user", id: action.userId }, { domainId: action.domainId }, null);
    case "suspend_member":
      await runSql(trx, `update memberships set status = 'suspended', suspended_at = now(), suspended_reason = ?, managed_by_run_id = ?, updated_at = now()
        where account_id = ? and user_id = ?`, [action.reason.event, ctx.runId, ctx.accountId, action.userId]);
      return record(s, action, "member.deprovisioned", { type: "user", id: action.userId }, { status: "active" }, { status: "suspended", why: action.reason.event });
    case "reactivate_member":
      await runSql(trx, `update memberships set status = 'active', suspended_at = null, suspended_reason = null, managed_by_run_id = ?, updated_at = now()
        where account_id = ? and user_id = ?`, [ctx.runId, ctx.accountId, action.userId]);
      return record(s, action, "member.reactivated", { type: "user", id: action.userId }, { status: "suspended" }, { status: "active" });
    case "delete_member":
      await runSql(trx, `delete from memberships where account_id = ? and user_id = ?`, [ctx.accountId, action.userId]);
      return record(s, action, "member.removed", { type: "user", id: action.userId }, { status: "suspended" }, null);
    case "revoke_sessions": {
      const { rowCount } = await runSql(trx, `update sessions set revoked_at = now(), revoked_reason = ? where account_id = ? and user_id = ? and revoked_at is null`,
        [action.reason.event, ctx.accountId, action.userId]);
      return record(s, action, "session.revoked", { type: "user", id: action.userId }, null, { sessions: rowCount });
    }
    case "revoke_invitations": {
      const { rowCount } = await runSql(trx, `update invitations set status = 'revoked', revoked_at = now(), revoked_reason = ?
        where account_id = ? and status = 'pending' and (invited_by_user_id = ? or lower(email) = lower(?))`,
        [action.reason.event, ctx.accountId, action.userId, action.email]);
      return record(s, action, "invitation.revoked", { type: "user", id: action.userId }, null, { invitations: rowCount });
    }
    case "revoke_key":
      await runSql(trx, `update api_keys set revoked_at = now(), revoked_reason = ?, revoked_by_run_id = ? where id = ? and account_id = ? and revoked_at is null`,
        [action.reason.event, ctx.runId, action.keyId, ctx.accountId]);
      return record(s, action, "key.revoked", { type: "api_key", id: action.keyId }, { active: true }, { active: false, why: action.reason.event });
    case "narrow_key":
      await runSql(trx, `delete from api_key_domains where api_key_id = ? and domain_id = any(?::uuid[])`, [action.keyId, action.removeDomainIds]);
      return record(s, action, "key.narrowed", { type: "api_key", id: action.keyId }, null, { removedDomainIds: action.removeDomainIds });
    case "alert": {
      // a lasting condition is stated by every plan and raised once, while it stays open
      const { rowCount } = await runSql(trx, `insert into alerts (account_id, kind, user_id, detail, data, run_id)
        select ?, ?, ?, ?, ?::jsonb, ? where not exists (
          select 1 from alerts where account_id = ? and kind = ? and user_id is not distinct from ?::uuid and detail = ? and resolved_at is null)`,
        [ctx.accountId, action.kind, action.userId ?? null, action.detail, JSON.stringify(action.data ?? {}), ctx.runId,
          ctx.accountId, action.kind, action.userId ?? null, action.detail]);
      if (rowCount > 0) await record(s, action, "alert.raised", { type: "alert", id: action.kind }, null, { kind: action.kind, detail: action.detail });
      return;
    }
  }
}

/** Applies a plan's actions in order; returns how many there were. */
export async function applyPlan(trx: Executor, actions: readonly PlanAction[], ctx: ApplyContext): Promise<number> {
  const state = new ApplyState(trx, ctx);
  for (const action of actions) await applyAction(state, action);
  return actions.length;
}
