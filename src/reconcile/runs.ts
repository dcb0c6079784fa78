// What operators decide about held runs: approve (a fresh reconcile that applies exactly the removals
// the run showed and the plan still wants), reject (those people keep their access until their facts
// change), lift a rejection, remind while a run waits; and recording a run that failed. The HTTP shell
// and the scheduler call these; the state machine is held-change-set.ts.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { reconcileAccount, type ReconcileResult } from "./reconcile-account.ts";
import { liftRejections, PersonNotInRunError, rejectVersion, RunNotOpenError } from "./held-change-set.ts";
import { loadBrakeState, removeRejections, writeRejections, writeSettlement } from "./brake-store.ts";
import { RunNotHeldError } from "./run-errors.ts";

export { RunNotHeldError } from "./run-errors.ts";

export interface RunRecord {
  id: string;
  account_id: string;
  status: string;
}

/** Who an operator's decision is about: the whole run, or one person (by app user id and email). */
export interface DecisionScope {
  readonly userId?: string;
  readonly email?: string;
}

const OPEN = new Set(["held", "superseded"]);

function asNotHeld(run: RunRecord, scope: DecisionScope, error: unknown): never {
  if (error instanceof PersonNotInRunError) throw new RunNotHeldError(run.id, run.status, `run ${run.id} holds no undecided removal of ${scope.email ?? scope.userId}`);
  if (error instanceof RunNotOpenError) throw new RunNotHeldError(run.id, run.status, `run ${run.id} has nothing left to decide`);
  throw error;
}

/** Applies the removals the held (or superseded) run showed that the current plan still wants. */
export async function approveHeldRun(db: Knex, run: RunRecord, actor: string, scope: DecisionScope = {}): Promise<ReconcileResult> {
  if (!OPEN.has(run.status)) throw new RunNotHeldError(run.id, run.status);
  try {
    return await reconcileAccount(db, run.account_id, { trigger: "approval", approval: { runId: run.id, userId: scope.userId }, actor });
  } catch (error) {
    return asNotHeld(run, scope, error);
  }
}

/** Rejects what the run showed (or one person's part): those removals are kept until the person's facts change or it is lifted. */
export async function rejectHeldRun(db: Knex, run: RunRecord, actor: string, scope: DecisionScope = {}): Promise<{ people: number; removals: number }> {
  if (!OPEN.has(run.status)) throw new RunNotHeldError(run.id, run.status);
  return db.transaction(async (trx) => {
    await runSql(trx, `select id from accounts where id = ? for no key update`, [run.account_id]);
    let result;
    try {
      result = rejectVersion(await loadBrakeState(trx, run.account_id), run.id, scope.userId);
    } catch (error) {
      return asNotHeld(run, scope, error);
    }
    await writeRejections(trx, run.account_id, result.rejections, actor);
    await writeSettlement(trx, run.account_id, result, actor);
    // audited per person (removal.rejected) and, once nothing in it is undecided, the run's end (run.rejected…)
    return { people: result.rejections.length, removals: result.rejections.reduce((n, r) => n + r.keys.length, 0) };
  });
}

/** Ends rejections (all of the account's, or one person's): the next reconcile plans those removals again, through the brake. */
export async function liftAccountRejections(db: Knex, accountId: string, actor: string, scope: DecisionScope = {}): Promise<{ lifted: number }> {
  return db.transaction(async (trx) => {
    await runSql(trx, `select id from accounts where id = ? for no key update`, [accountId]);
    const { lifted } = liftRejections(await loadBrakeState(trx, accountId), scope.userId);
    await removeRejections(trx, accountId, lifted, actor, "lifted by an operator", null);
    if (lifted.length) await runSql(trx, `insert into reconcile_requests (account_id, reason) values (?, 'rejection lifted')`, [accountId]);
    return { lifted: lifted.length };
  });
}

/** How often a run still waiting for approval is announced again (an event and its alert refreshed). */
export const HELD_REMINDER_HOURS = 4;

/** Reminds about every held run that has waited `hours` since it was held or last reminded; returns how many. */
export async function remindHeldRuns(db: Knex, hours = HELD_REMINDER_HOURS): Promise<number> {
  const { rows } = await runSql<{ id: string; account_id: string; held_at: string }>(db,
    `update sync_runs set reminded_at = now() where status = 'held' and coalesce(reminded_at, held_at, started_at) <= now() - make_interval(hours => ?)
     returning id, account_id, held_at`, [hours]);
  for (const run of rows) {
    await runSql(db, `insert into events (account_id, type, payload, run_id) values (?, 'run.held.reminder', ?::jsonb, ?)`,
      [run.account_id, JSON.stringify({ heldAt: run.held_at, message: `run ${run.id} has waited for approval since ${new Date(run.held_at).toISOString()}` }), run.id]);
    await runSql(db, `update alerts set data = data || jsonb_build_object('remindedAt', now()) where run_id = ? and kind = 'run_held' and resolved_at is null`, [run.id]);
  }
  return rows.length;
}

/** Records a reconcile that failed (and so changed nothing), with its reason for the run history. */
export async function recordFailedRun(db: Knex, accountId: string, trigger: string, error: unknown): Promise<void> {
  await runSql(db, `insert into sync_runs (account_id, kind, status, trigger, finished_at, error) values (?, 'reconcile', 'failed', ?, now(), ?)`,
    [accountId, trigger, String((error as Error)?.message ?? error).slice(0, 500)]);
}
