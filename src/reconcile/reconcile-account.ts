// One reconcile run of one account: load → plan (pure) → brake (pure) → apply, in one transaction,
// recorded as a sync run. Runs of one account are serialised by a row lock on the account.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { planAccount } from "./plan-account.ts";
import type { Plan, PlanAction } from "./plan.ts";
import { loadPlanInput } from "./load-account-state.ts";
import { applyRemovalBrake } from "./removal-brake.ts";
import { applyPlan } from "./apply-plan.ts";
import { coverageOf, resolveStaleAlerts } from "./stale-alerts.ts";
import { reconcileActions, runsFinished } from "../metrics/metrics.ts";

export interface ReconcileOptions {
  readonly trigger: string;
  /** Plan only; change nothing. */
  readonly dryRun?: boolean;
  /** Apply removals without the brake: an operator approved this held run. */
  readonly approvedRunId?: string;
  readonly actor?: string;
  /**
   * What to reconcile: the whole account (default; schedules, rule changes, operators), the people the
   * pending requests name (the SCIM worker), or the given IdP users (tests).
   */
  readonly scope?: "account" | "requests" | { readonly idpUserIds: readonly string[] };
}

export interface ReconcileResult {
  readonly runId: string | null;
  readonly status: "succeeded" | "held" | "dry-run" | "nothing-to-do";
  readonly plan: Plan;
  readonly applied: number;
  readonly withheld: number;
  /** Planned for some people only (a scoped run), not the whole account. */
  readonly scoped?: boolean;
}

const BRAKE_WINDOW_MINUTES = 15;

/**
 * Without rules nothing is granted, and without IdP-managed memberships nothing can be taken back:
 * such an account (an IdP importing before anyone wrote rules) is answered without loading its snapshot.
 */
async function mayChangeAnything(trx: Knex.Transaction, accountId: string): Promise<boolean> {
  const { rows: [row] } = await runSql<{ yes: boolean }>(trx,
    `select exists (select 1 from account_rules where account_id = ?) or exists (select 1 from memberships where account_id = ? and managed_by_connection_id is not null) as yes`,
    [accountId, accountId]);
  return row!.yes;
}

/** Marks as answered the requests committed before this run read anything. */
async function markAnswered(trx: Knex.Transaction, accountId: string, lastRequestId: string | null): Promise<void> {
  if (lastRequestId === null) return;
  await runSql(trx, `update reconcile_requests set processed_at = now() where account_id = ? and processed_at is null and id <= ?`, [accountId, lastRequestId]);
}

/** The IdP users a scoped run is for, or null for the whole account. */
async function requestedUsers(trx: Knex.Transaction, accountId: string, scope: NonNullable<ReconcileOptions["scope"]>,
  pending: { last: string | null; whole: boolean }): Promise<readonly string[] | null> {
  if (scope === "account") return null;
  if (scope !== "requests") return scope.idpUserIds;
  if (pending.last === null || pending.whole) return null;
  const { rows: [row] } = await runSql<{ ids: string[] }>(trx,
    `select coalesce(array_agg(distinct x)::text[], '{}') as ids from reconcile_requests r cross join unnest(r.idp_user_ids) x
     where r.account_id = ? and r.processed_at is null and r.id <= ?`, [accountId, pending.last]);
  return row!.ids;
}

export async function reconcileAccount(db: Knex, accountId: string, options: ReconcileOptions): Promise<ReconcileResult> {
  let applied: readonly PlanAction[] = [];
  const result = await reconcileInTransaction(db, accountId, options, (actions) => (applied = actions));
  // counted once committed: a rolled-back run applied nothing
  if (!options.dryRun) {
    runsFinished.inc({ kind: "reconcile", status: result.status });
    for (const action of applied) reconcileActions.inc({ type: action.type });
  }
  return result;
}

async function reconcileInTransaction(db: Knex, accountId: string, options: ReconcileOptions,
  onApplied: (actions: readonly PlanAction[]) => void): Promise<ReconcileResult> {
  return db.transaction(async (trx) => {
    // serialises this account's runs; "no key update" so SCIM writes (whose foreign keys take
    // key-share locks on the account row) never wait behind a run
    await runSql(trx, `select id from accounts where id = ? for no key update`, [accountId]);
    // only requests committed before the snapshot is read are answered by this run
    const { rows: [pending] } = await runSql<{ last: string | null; whole: boolean }>(trx,
      `select max(id)::text as last, coalesce(bool_or(idp_user_ids is null), false) as whole
       from reconcile_requests where account_id = ? and processed_at is null`, [accountId]);
    if (!options.dryRun && !(await mayChangeAnything(trx, accountId))) {
      await markAnswered(trx, accountId, pending?.last ?? null);
      return { runId: null, status: "nothing-to-do", plan: { actions: [], manualMembers: [], warnings: [] }, applied: 0, withheld: 0 };
    }
    const requested = await requestedUsers(trx, accountId, options.scope ?? "account", pending!);
    const { scoped, ...input } = await loadPlanInput(trx, accountId, requested, Date.now());
    const plan = planAccount(input);
    const rules = input.rules;
    // a dry run answers nothing: the worker still owes those requests their apply
    if (options.dryRun) return { runId: null, status: "dry-run", plan, applied: 0, withheld: 0, scoped };
    // a run for given people answers no request: the ones pending may name others
    if (typeof (options.scope ?? "account") === "string") await markAnswered(trx, accountId, pending?.last ?? null);
    await resolveStaleAlerts(trx, { accountId, runId: null, actor: options.actor ?? "reconciler" }, plan, coverageOf(input.actual, scoped));
    if (plan.actions.length === 0) return { runId: null, status: "nothing-to-do", plan, applied: 0, withheld: 0, scoped };

    const { rows: [active] } = await runSql<{ n: number }>(trx,
      `select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [accountId]);
    const { rows: [recent] } = await runSql<{ n: number }>(trx,
      `select count(*)::int as n from audit_log where account_id = ? and actor = 'reconciler'
       and action in ('member.deprovisioned', 'member.removed', 'domain.revoked') and occurred_at > now() - make_interval(mins => ?)`,
      [accountId, BRAKE_WINDOW_MINUTES]);
    const verdict = options.approvedRunId
      ? { held: false, removals: 0, limit: 0, proceed: [...plan.actions], withheld: [] }
      : applyRemovalBrake(plan.actions, active!.n, rules.policy, recent?.n ?? 0);

    const { rows: [run] } = await runSql<{ id: string }>(trx,
      `insert into sync_runs (account_id, kind, status, trigger, counts) values (?, 'reconcile', 'running', ?, '{}'::jsonb) returning id`, [accountId, options.trigger]);
    const ctx = { accountId, runId: run!.id, actor: options.actor ?? "reconciler" };
    const applied = await applyPlan(trx, verdict.proceed, ctx);
    onApplied(verdict.proceed);
    const counts = { actions: plan.actions.length, applied, withheld: verdict.withheld.length, removals: verdict.removals, limit: verdict.limit };
    if (verdict.held) {
      await runSql(trx, `update sync_runs set status = 'held', finished_at = now(), counts = ?::jsonb, plan = ?::jsonb where id = ?`,
        [JSON.stringify(counts), JSON.stringify({ withheld: verdict.withheld, warnings: plan.warnings }), run!.id]);
      await runSql(trx, `insert into alerts (account_id, kind, detail, data, run_id) values (?, 'run_held', ?, ?::jsonb, ?)`,
        [accountId, `run ${run!.id} would remove ${verdict.removals} memberships or grants (limit ${verdict.limit}); approve or reject it`, JSON.stringify(counts), run!.id]);
      await runSql(trx, `insert into events (account_id, type, payload, run_id) values (?, 'run.held', ?::jsonb, ?)`, [accountId, JSON.stringify(counts), run!.id]);
    } else {
      await runSql(trx, `update sync_runs set status = 'succeeded', finished_at = now(), counts = ?::jsonb where id = ?`, [JSON.stringify(counts), run!.id]);
    }
    if (options.approvedRunId) {
      await runSql(trx, `update sync_runs set status = 'succeeded', finished_at = now() where id = ? and status = 'held'`, [options.approvedRunId]);
      await runSql(trx, `update alerts set resolved_at = now() where run_id = ? and kind = 'run_held' and resolved_at is null`, [options.approvedRunId]);
    }
    return { runId: run!.id, status: verdict.held ? "held" : "succeeded", plan, applied, withheld: verdict.withheld.length, scoped };
  });
}
