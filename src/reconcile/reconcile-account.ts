// One reconcile run of one account: load → plan (pure) → brake (pure state machine) → apply, the brake
// and the apply in one transaction, recorded as a sync run. Runs of one account are serialised by a row
// lock on the account; a full run plans before taking it (see reconcileInTransaction).
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { analyzeAfterBulkWrite } from "../db/table-statistics.ts";
import { planAccountWithFactsInTurns, type AccountPlanInput } from "./plan-account.ts";
import type { Plan, PlanAction } from "./plan.ts";
import { loadPlanInput } from "./load-account-state.ts";
import { brakeLimit, countsTowardsBrake, isRemoval, membersToCount, removalKey, removalUser, type BrakeLimit, type BrakeVerdict } from "./removal-brake.ts";
import type { AccountPolicy } from "../mapping/mapping-rules.ts";
import { NEW_VERSION, PersonNotInRunError, reconcileStep, RunNotOpenError, type PlannedRemoval, type StepResult } from "./held-change-set.ts";
import { loadBrakeState, removeRejections, writeNewVersion, writeSettlement } from "./brake-store.ts";
import { applyPlan } from "./apply-plan.ts";
import { rowsWritten } from "./apply-batches.ts";
import { coverageOf, resolveStaleAlerts } from "./stale-alerts.ts";
import { countReconcileRun } from "../metrics/metrics.ts";

export interface ReconcileOptions {
  readonly trigger: string;
  /** Plan only; change nothing. */
  readonly dryRun?: boolean;
  /** An operator approves this held run (or one person's part of it): its removals still planned are applied. */
  readonly approval?: { readonly runId: string; readonly userId?: string };
  readonly actor?: string;
  /**
   * What to reconcile: the whole account (default; schedules, rule changes, operators), the people the
   * pending requests name (the SCIM worker), or the given IdP users (a SCIM departure; tests). With
   * `answersTheirRequests`, the pending requests naming only those users are answered by the run.
   */
  readonly scope?: "account" | "requests" | { readonly idpUserIds: readonly string[]; readonly answersTheirRequests?: boolean };
  /**
   * A scheduled full run: when other runs applied to the account during each of its plans, it is
   * deferred (status "deferred") rather than planned again under the account lock, where departures
   * would wait behind it. The next slot runs it; what the IdP changed meanwhile has its own runs.
   */
  readonly deferWhenBusy?: boolean;
  /**
   * Runs at most once for this key (a scheduled full reconcile's "full:<slot>"): the key is recorded in
   * the run's own transaction, and a run finding it already there changes nothing (status "already-done").
   */
  readonly onceKey?: string;
}

/** What the brake did with a plan's removals, for the people reading the answer. */
export interface BrakeReport {
  readonly verdict: BrakeVerdict;
  /** Why removals wait (the verdict's numbers, or the held run they already wait in). */
  readonly message: string | null;
  /** The held run (the current version of the change-set) after this run, if any. */
  readonly heldRunId: string | null;
  /** What the brake does with each removal of the plan, by the action's index in plan.actions. */
  readonly marks: ReadonlyMap<number, string>;
  readonly kept: number;
  readonly approved: number;
}

export interface ReconcileResult {
  readonly runId: string | null;
  readonly status: "succeeded" | "held" | "dry-run" | "nothing-to-do" | "deferred" | "already-done";
  readonly plan: Plan;
  readonly applied: number;
  readonly withheld: number;
  /** Planned for some people only (a scoped run), not the whole account. */
  readonly scoped?: boolean;
  readonly brake?: BrakeReport;
}

/**
 * Without rules nothing is granted, and without IdP-managed memberships nothing can be taken back:
 * such an account (an IdP importing before anyone wrote rules) is answered without loading its snapshot.
 * (An SQL expression of two bindings, both the account id.)
 */
const MAY_CHANGE_ANYTHING = `(exists (select 1 from account_rules where account_id = ?) or exists (select 1 from memberships where account_id = ? and managed_by_connection_id is not null))`;

/** The brake's limit, from as many active members as the verdict needs counted (membersToCount). */
async function countedBrakeLimit(trx: Knex.Transaction, accountId: string, policy: AccountPolicy, mostRemovals: number): Promise<BrakeLimit> {
  const upTo = membersToCount(policy, mostRemovals);
  if (upTo === 0) return brakeLimit(policy, 0, true);
  const { rows: [active] } = await runSql<{ n: number }>(trx,
    `select count(*)::int as n from (select 1 from memberships where account_id = ? and status = 'active'${upTo === null ? "" : " limit ?"}) m`,
    upTo === null ? [accountId] : [accountId, upTo]);
  return brakeLimit(policy, active!.n, upTo !== null && active!.n >= upTo);
}

/** Marks as answered the requests committed before this run read anything. */
async function markAnswered(trx: Knex.Transaction, accountId: string, lastRequestId: string | null): Promise<void> {
  if (lastRequestId === null) return;
  await runSql(trx, `update reconcile_requests set processed_at = now() where account_id = ? and processed_at is null and id <= ?`, [accountId, lastRequestId]);
}

/** Marks as answered the pending requests (committed before this run read anything) that name only `idpUserIds`. */
async function markAnsweredFor(trx: Knex.Transaction, accountId: string, lastRequestId: string | null, idpUserIds: readonly string[]): Promise<void> {
  if (lastRequestId === null) return;
  await runSql(trx, `update reconcile_requests set processed_at = now() where account_id = ? and processed_at is null and id <= ?
    and idp_user_ids is not null and idp_user_ids <@ ?::uuid[]`, [accountId, lastRequestId, [...idpUserIds]]);
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

/** A run's result, with the actions it applied by type (what the metrics count). */
export type ReconcileOutcome = ReconcileResult & { readonly appliedByType: Readonly<Record<string, number>> };

export async function reconcileAccount(db: Knex, accountId: string, options: ReconcileOptions): Promise<ReconcileOutcome> {
  let applied: readonly PlanAction[] = [];
  const result = await reconcileInTransaction(db, accountId, options, (actions) => (applied = actions));
  const appliedByType: Record<string, number> = {};
  for (const action of applied) appliedByType[action.type] = (appliedByType[action.type] ?? 0) + 1;
  // counted once committed: a rolled-back run applied nothing
  if (!options.dryRun) countReconcileRun(result.status, appliedByType);
  // a first apply fills the membership tables from empty: the next run must not plan on their old statistics
  if (!options.dryRun) await analyzeAfterBulkWrite(db, rowsWritten(appliedByType));
  return { ...result, appliedByType };
}

/** The plan's removals as the brake sees them, each with its person's facts fingerprint. */
function plannedRemovals(plan: Plan, factsOf: (userId: string) => string): PlannedRemoval[] {
  return plan.actions.filter(isRemoval).map((action) => ({
    key: removalKey(action), userId: removalUser(action), counted: countsTowardsBrake(action), fingerprint: factsOf(removalUser(action)), action,
  }));
}

/** What the brake does with each removal, for `idsync plan` and the reconcile's answer. */
function brakeMarks(plan: Plan, step: StepResult, heldRunId: string | null): Map<number, string> {
  const apply = new Set(step.apply.map((r) => r.key));
  const approved = new Set(step.approved.map((r) => r.key));
  const kept = new Map(step.kept.map((r) => [r.key, r]));
  const newKeys = new Set(step.newVersion?.map((r) => r.key) ?? []);
  const waitingIn = new Map(step.state.versions.filter((v) => v.runId !== NEW_VERSION).flatMap((v) => v.open.map((r) => [r.key, v.runId] as const)));
  const marks = new Map<number, string>();
  plan.actions.forEach((action, index) => {
    if (!isRemoval(action)) return;
    const key = removalKey(action);
    if (approved.has(key)) marks.set(index, "approved by an operator");
    else if (apply.has(key)) marks.set(index, `passes the brake (${step.verdict.message.replace(/^passed: /, "")})`);
    else if (kept.has(key)) marks.set(index, `kept by an operator's decision (run ${step.state.rejections.get(kept.get(key)!.userId)?.runId ?? "?"} rejected)`);
    else if (newKeys.has(key) && step.verdict.held && !waitingIn.has(key)) marks.set(index, `would be held: ${step.verdict.message.replace(/^held: /, "")}`);
    else marks.set(index, `waits for approval in run ${waitingIn.get(key) ?? heldRunId ?? "(new)"}`);
  });
  return marks;
}

function heldMessage(step: StepResult, runId: string): string {
  const people = new Set(step.newVersion!.map((r) => r.userId)).size;
  const why = step.verdict.held ? step.verdict.message : `held: new removals of people already waiting in run ${step.superseded}`;
  return `run ${runId} ${why}; it holds ${step.newVersion!.length} removal(s) of ${people} person(s)${step.superseded ? ` and supersedes run ${step.superseded}` : ""}: approve or reject it (idsync runs approve ${runId} / idsync runs reject ${runId})`;
}

/** How often a full run plans again without the lock, when runs changed the account meanwhile, before it plans under it. */
const PLAN_AHEAD_ATTEMPTS = 3;

/** What a run read and planned, before the brake and the apply. */
interface PlannedRun {
  readonly pending: { last: string | null; whole: boolean; rules: boolean };
  readonly trigger: string;
  /** accounts.reconcile_generation as the plan read it. */
  readonly generation: string;
  /** Nothing can change (no rules, nothing managed): answered without planning. */
  readonly idleAccount: boolean;
  readonly planned?: { readonly input: AccountPlanInput; readonly scoped: boolean; readonly plan: Plan; readonly factsOf: (userId: string) => string };
}

/** Takes the account row lock that serialises its runs' brake steps and applies; returns its generation. */
async function lockAccount(trx: Knex.Transaction, accountId: string): Promise<string | null> {
  // "no key update" so SCIM writes (whose foreign keys take key-share locks on the account row) never wait behind a run
  const { rows: [row] } = await runSql<{ generation: string }>(trx,
    `select reconcile_generation::text as generation from accounts where id = ? for no key update`, [accountId]);
  return row?.generation ?? null;
}

/** Lets the requests waiting on this process (SCIM answers, departures among them) run between plan steps. */
const giveTheEventLoopATurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function planRun(trx: Knex.Transaction, accountId: string, options: ReconcileOptions): Promise<PlannedRun> {
  // only requests committed before the snapshot is read are answered by this run
  const { rows: [pending] } = await runSql<{ last: string | null; whole: boolean; rules: boolean; generation: string; may_change: boolean }>(trx,
    `select max(id)::text as last, coalesce(bool_or(idp_user_ids is null), false) as whole, coalesce(bool_or(reason = 'rules changed'), false) as rules,
       (select reconcile_generation::text from accounts where id = ?) as generation, ${MAY_CHANGE_ANYTHING} as may_change
     from reconcile_requests where account_id = ? and processed_at is null`, [accountId, accountId, accountId, accountId]);
  const { generation, may_change: mayChange, ...requests } = pending!;
  // the worker answering a rules change says so in the run's trigger
  const trigger = options.scope === "requests" && requests.rules ? "rules change" : options.trigger;
  if (!options.dryRun && !mayChange) return { pending: requests, trigger, generation, idleAccount: true };
  // a worker's run whose requests another run answered first (a SCIM departure answers its own before
  // the 200) has nothing asked of it. Planned as the whole account instead, it read 100,000 people under
  // the lock after every deactivation and each departure waited for it (bench: p50 0.9 s, not 25 ms).
  if (options.scope === "requests" && requests.last === null) return { pending: requests, trigger, generation, idleAccount: true };
  const scope = options.approval ? "account" : options.scope ?? "account";
  const requested = await requestedUsers(trx, accountId, scope, requests);
  const { scoped, ...input } = await loadPlanInput(trx, accountId, requested, Date.now());
  const { plan, factsOf } = await planAccountWithFactsInTurns(input, giveTheEventLoopATurn);
  return { pending: requests, trigger, generation, idleAccount: false, planned: { input, scoped, plan, factsOf } };
}

/**
 * Runs a reconcile. Runs for given people (SCIM departures), dry runs and approvals plan and apply
 * under the account lock in one transaction. A run of the account or of its pending requests (which
 * may ask for the whole account) plans first, on a read-only REPEATABLE READ snapshot and without the
 * lock (5 s in a 100,000-user account, during which a departure used to wait), then takes the lock and
 * applies in a second transaction, only if no run
 * changed the account's membership tables since its snapshot (reconcile_generation, bumped by every run
 * that applies): otherwise it plans again, and after PLAN_AHEAD_ATTEMPTS it plans under the lock, as
 * every run did before. Why the generation and not the pending requests: a SCIM change committed during
 * the planning is no reason to plan again — its request stays pending and the worker reconciles its
 * people next, as when it commits right after a locked run's read — but another run's apply is: the plan
 * would act on rows it no longer describes (revoke a key twice, grant a departed person again). The
 * brake's state, its window and the active members are read under the lock, so its invariants are the
 * locked run's. The apply itself stays one transaction: a first apply of a large account (every member
 * created, 18 s in the bench) still holds the lock while it writes, and a departure in that time waits.
 * A scheduled full run never plans under the lock: when other runs kept applying through all its
 * attempts (departures back to back, as in the reconcile bench, where one waited 8.5 s behind such a
 * run), it is deferred to the next slot instead (`deferWhenBusy`). Other runs (a rules change asking
 * for the whole account) still plan under the lock after their attempts, as every run once did.
 */
async function reconcileInTransaction(db: Knex, accountId: string, options: ReconcileOptions,
  onApplied: (actions: readonly PlanAction[]) => void): Promise<ReconcileResult> {
  // the worker's runs too: a request for the whole account (a group renamed, rules changed) plans it whole
  const plansAhead = !options.dryRun && !options.approval && typeof (options.scope ?? "account") === "string";
  for (let attempt = 0; plansAhead && attempt < PLAN_AHEAD_ATTEMPTS; attempt++) {
    const planned = await db.transaction(async (trx) => {
      await runSql(trx, `set transaction isolation level repeatable read, read only`);
      return planRun(trx, accountId, options);
    });
    const result = await db.transaction(async (trx) => {
      if ((await lockAccount(trx, accountId)) !== planned.generation) return undefined;
      return settleRun(trx, accountId, options, planned, onApplied);
    });
    if (result) return result;
  }
  if (plansAhead && options.deferWhenBusy) {
    return nothingApplied("deferred");
  }
  return db.transaction(async (trx) => {
    await lockAccount(trx, accountId);
    return settleRun(trx, accountId, options, await planRun(trx, accountId, options), onApplied);
  });
}

/** A run that planned nothing to apply, or did not plan. */
const nothingApplied = (status: ReconcileResult["status"]): ReconcileResult =>
  ({ runId: null, status, plan: { actions: [], manualMembers: [], warnings: [] }, applied: 0, withheld: 0 });

/** The brake step and the apply, under the account lock. */
async function settleRun(trx: Knex.Transaction, accountId: string, options: ReconcileOptions, read: PlannedRun,
  onApplied: (actions: readonly PlanAction[]) => void): Promise<ReconcileResult> {
  const { pending, trigger } = read;
  if (options.onceKey && !options.dryRun) {
    // under the account lock: of two runs with one key, the second reads the first's committed row
    const { rowCount } = await runSql(trx, `insert into reconcile_run_keys (account_id, key) values (?, ?) on conflict do nothing`, [accountId, options.onceKey]);
    if (rowCount === 0) return nothingApplied("already-done");
  }
  const brakeState = await loadBrakeState(trx, accountId);
  if (options.approval) {
    const version = brakeState.versions.find((v) => v.runId === options.approval!.runId);
    if (!version) throw new RunNotOpenError(options.approval.runId);
    if (options.approval.userId && !version.open.some((r) => r.userId === options.approval!.userId)) throw new PersonNotInRunError(version.runId, options.approval.userId);
  }
  if (read.idleAccount || !read.planned) {
    await markAnswered(trx, accountId, pending.last);
    return nothingApplied("nothing-to-do");
  }
  const { input, scoped, plan, factsOf } = read.planned;
  const rules = input.rules;
  const { rows: [recent] } = await runSql<{ n: number }>(trx,
    `select count(*)::int as n from audit_log where account_id = ? and actor = 'reconciler'
     and action in ('member.deprovisioned', 'member.removed', 'domain.revoked') and occurred_at > now() - make_interval(mins => ?)`,
    [accountId, rules.policy.removalBrake.windowMinutes]);
  const removals = plannedRemovals(plan, factsOf);
  // the most counted removals any verdict of this step can sum: the plan's, those still held, the window's
  const mostRemovals = removals.filter((r) => r.counted).length + (recent?.n ?? 0)
    + brakeState.versions.reduce((n, v) => n + v.open.filter((r) => r.counted).length, 0);
  const limit = await countedBrakeLimit(trx, accountId, rules.policy, mostRemovals);
  const inScope = (userId: string) => input.actual.members.has(userId);
  // the facts the brake compares: those of the people an operator's rejection keeps (the removals' are in `removals`)
  const fingerprints = new Map([...brakeState.rejections.keys()].filter(inScope).map((userId) => [userId, factsOf(userId)]));
  const step = reconcileStep(brakeState, {
    removals, fingerprints, inScope,
    limit, inWindow: recent?.n ?? 0, approval: options.approval,
  });
  const currentHeld = step.current === NEW_VERSION ? null : step.current;
  const report = (heldRunId: string | null, message: string | null): BrakeReport => ({
    verdict: step.verdict, message, heldRunId, marks: brakeMarks(plan, step, heldRunId), kept: step.kept.length, approved: step.approved.length });

  // a dry run answers nothing: the worker still owes those requests their apply
  if (options.dryRun) {
    return { runId: null, status: "dry-run", plan, applied: 0, withheld: step.withheld.length, scoped,
      brake: report(currentHeld, step.newVersion ? (step.verdict.held ? step.verdict.message : "held: new removals of people already waiting for approval") : null) };
  }
  // a run for given people answers no request, the ones pending may name others; a departure's answers those naming only its people
  const scope = options.scope ?? "account";
  if (typeof scope === "string" || options.approval) await markAnswered(trx, accountId, pending.last);
  else if (scope.answersTheirRequests) await markAnsweredFor(trx, accountId, pending.last, scope.idpUserIds);
  // decisions made in passing (a removal no longer planned) are the reconciler's; an approval is the operator's
  const actor = options.approval ? options.actor ?? "reconciler" : "reconciler";
  await removeRejections(trx, accountId, step.lifted, "reconciler", "the person's IdP facts changed", null);
  await writeSettlement(trx, accountId, step, actor);
  await resolveStaleAlerts(trx, { accountId, runId: null, actor: "reconciler" }, plan, coverageOf(input.actual, scoped));

  const applyKeys = new Set(step.apply.map((r) => r.key));
  const proceed = plan.actions.filter((a) => !isRemoval(a) || applyKeys.has(removalKey(a)));
  const idle = proceed.length === 0 && !step.newVersion && !options.approval;
  if (idle) {
    // nothing to apply and nothing new to hold: answered by the held run the removals already wait in
    const status = step.withheld.length > 0 ? "held" : "nothing-to-do";
    return { runId: status === "held" ? currentHeld : null, status, plan, applied: 0, withheld: step.withheld.length, scoped,
      brake: report(currentHeld, status === "held" ? `waiting for approval in run ${currentHeld}` : null) };
  }

  const { rows: [run] } = await runSql<{ id: string }>(trx,
    `insert into sync_runs (account_id, kind, status, trigger, counts) values (?, 'reconcile', 'running', ?, '{}'::jsonb) returning id`, [accountId, trigger]);
  const runId = run!.id;
  // an operator's approval is applied in their name; the brake's window counts the reconciler's own removals only
  const approvedKeys = new Set(step.approved.map((r) => r.key));
  const byReconciler = proceed.filter((a) => !isRemoval(a) || !approvedKeys.has(removalKey(a)));
  const byOperator = proceed.filter((a) => isRemoval(a) && approvedKeys.has(removalKey(a)));
  const appliedCount = (await applyPlan(trx, byReconciler, { accountId, runId, actor: options.approval ? actor : "reconciler" }))
    + (byOperator.length ? await applyPlan(trx, byOperator, { accountId, runId, actor }) : 0);
  onApplied(proceed);
  // a full run planning without the lock learns from this that its plan may act on rows it no longer describes
  if (proceed.length > 0) await runSql(trx, `update accounts set reconcile_generation = reconcile_generation + 1 where id = ?`, [accountId]);
  const counts = {
    actions: plan.actions.length, applied: appliedCount, withheld: step.withheld.length, removals: step.verdict.inRun, inWindow: step.verdict.inWindow,
    windowMinutes: limit.windowMinutes, limit: limit.limit, ...(limit.atLeast ? { limitAtLeast: true } : {}), kept: step.kept.length, approved: step.approved.length,
  };
  if (step.newVersion) {
    const message = heldMessage(step, runId);
    await writeNewVersion(trx, accountId, runId, step.newVersion, step.superseded);
    await runSql(trx, `update sync_runs set status = 'held', finished_at = now(), held_at = now(), counts = ?::jsonb, plan = ?::jsonb where id = ?`,
      [JSON.stringify(counts), JSON.stringify({ withheld: step.newVersion.map((r) => r.action), warnings: plan.warnings, message }), runId]);
    await runSql(trx, `insert into alerts (account_id, kind, detail, data, run_id) values (?, 'run_held', ?, ?::jsonb, ?)`,
      [accountId, message, JSON.stringify(counts), runId]);
    await runSql(trx, `insert into events (account_id, type, payload, run_id) values (?, 'run.held', ?::jsonb, ?)`, [accountId, JSON.stringify({ ...counts, message, supersedes: step.superseded }), runId]);
    return { runId, status: "held", plan, applied: appliedCount, withheld: step.withheld.length, scoped, brake: report(runId, message) };
  }
  await runSql(trx, `update sync_runs set status = 'succeeded', finished_at = now(), counts = ?::jsonb where id = ?`, [JSON.stringify(counts), runId]);
  return { runId, status: "succeeded", plan, applied: appliedCount, withheld: step.withheld.length, scoped,
    brake: report(currentHeld, step.withheld.length > 0 ? `${step.withheld.length} removal(s) still wait for approval in run ${currentHeld}` : null) };
}
