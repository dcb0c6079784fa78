// Alerts about lasting conditions (a conflict, a departed owner, a kept key…) are re-stated by every
// plan and raised once by the applier (see `changesOf`). When a later plan no longer states one, its
// cause is gone — `link_by_email` linked the manual user, the owner came back — and it is resolved.
// A scoped run plans only some people: it may resolve only alerts about the people it planned, and
// never an account-wide one (no owner, two owners), which only a plan of the whole account can judge.
import { runSql } from "../db/run-sql.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import type { ActualState } from "./actual-state.ts";
import type { AlertKind, Plan } from "./plan.ts";

/** The alert kinds the planner states. Others (held runs, failed pulls) have their own resolution. */
const PLANNED_KINDS: ReadonlySet<string> = new Set<AlertKind>(["owner_departed", "owner_missing", "owner_conflict", "org_keys_kept", "manual_user_conflict", "email_conflict"]);

export interface OpenAlert {
  readonly id: string;
  readonly kind: string;
  readonly userId: string | null;
  readonly detail: string;
}

/** Whom a plan covered: the whole account, or (a scoped run) these app users. */
export type PlanCoverage = { readonly whole: true } | { readonly whole: false; readonly userIds: ReadonlySet<string> };

/** A scoped run covers the app users it loaded: its members, the users its IdP users link or match by email. */
export function coverageOf(actual: ActualState, scoped: boolean): PlanCoverage {
  if (!scoped) return { whole: true };
  return { whole: false, userIds: new Set([...actual.members.keys(), ...actual.identities.values(), ...[...actual.usersByEmail.values()].map((u) => u.userId)]) };
}

const keyOf = (kind: string, userId: string | null | undefined, detail: string) => JSON.stringify([kind, userId ?? null, detail]);

/** Pure: the open alerts whose condition the plan no longer states, within what it covered. */
export function staleAlerts(open: readonly OpenAlert[], plan: Plan, coverage: PlanCoverage): OpenAlert[] {
  // an alert is the same alert when kind, person and detail match: what the applier deduplicates on
  const stated = new Set<string>();
  for (const a of plan.actions) if (a.type === "alert") stated.add(keyOf(a.kind, a.userId, a.detail)); // no array per action of a first apply's 2 million
  return open.filter((alert) => PLANNED_KINDS.has(alert.kind) && !stated.has(keyOf(alert.kind, alert.userId, alert.detail))
    && (coverage.whole || (alert.userId !== null && coverage.userIds.has(alert.userId))));
}

export interface ResolveContext {
  readonly accountId: string;
  readonly runId: string | null;
  readonly actor: string;
}

/** Resolves the stale alerts in the caller's transaction, each with an audit row and an event. Returns how many. */
export async function resolveStaleAlerts(trx: Executor, ctx: ResolveContext, plan: Plan, coverage: PlanCoverage): Promise<number> {
  const { rows: open } = await runSql<OpenAlert>(trx,
    `select id, kind, user_id as "userId", detail from alerts where account_id = ? and resolved_at is null and kind = any(?::text[])`,
    [ctx.accountId, [...PLANNED_KINDS]]);
  const stale = staleAlerts(open, plan, coverage);
  if (stale.length === 0) return 0;
  await runSql(trx, `update alerts set resolved_at = now() where id = any(?::uuid[]) and resolved_at is null`, [stale.map((a) => a.id)]);
  const after = { resolved: "the plan no longer states it: its cause is gone" };
  for (const alert of stale) { // a handful at most: one audit row and one event each
    const before = { kind: alert.kind, detail: alert.detail, ...(alert.userId ? { userId: alert.userId } : {}) };
    await writeAudit(trx, { accountId: ctx.accountId, actor: ctx.actor, action: "alert.resolved", targetType: "alert", targetId: alert.kind, before, after, runId: ctx.runId });
    await runSql(trx, `insert into events (account_id, type, payload, run_id) values (?, 'alert.resolved', ?::jsonb, ?)`,
      [ctx.accountId, JSON.stringify({ target: { type: "alert", id: alert.kind }, before, after }), ctx.runId]);
  }
  return stale.length;
}
