// What happens to runs outside a reconcile: rejecting a held run, recording one that failed. The HTTP
// shell and the scheduler call these; the run bookkeeping lives here, beside reconcileAccount.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { writeAudit } from "../audit/audit-log.ts";
import { reconcileAccount, type ReconcileResult } from "./reconcile-account.ts";

export interface RunRecord {
  id: string;
  account_id: string;
  status: string;
}

export class RunNotHeldError extends Error {
  constructor(readonly runId: string, readonly status: string) {
    super(`run ${runId} is ${status}, not held`);
    this.name = "RunNotHeldError";
  }
}

/** Applies a held run's removals (through a fresh plan, so only what is still true is removed). */
export async function approveHeldRun(db: Knex, run: RunRecord, actor: string): Promise<ReconcileResult> {
  if (run.status !== "held") throw new RunNotHeldError(run.id, run.status);
  return reconcileAccount(db, run.account_id, { trigger: "approved", approvedRunId: run.id, actor });
}

/** Discards a held run's removals: nothing it withheld is applied; its alert is resolved; audited. */
export async function rejectHeldRun(db: Knex, run: RunRecord, actor: string): Promise<void> {
  if (run.status !== "held") throw new RunNotHeldError(run.id, run.status);
  await db.transaction(async (trx) => {
    await runSql(trx, `update sync_runs set status = 'rejected', finished_at = now() where id = ?`, [run.id]);
    await runSql(trx, `update alerts set resolved_at = now() where run_id = ? and kind = 'run_held' and resolved_at is null`, [run.id]);
    await writeAudit(trx, { accountId: run.account_id, actor, action: "run.rejected", targetType: "run", targetId: run.id, runId: run.id });
  });
}

/** Records a reconcile that failed (and so changed nothing), with its reason for the run history. */
export async function recordFailedRun(db: Knex, accountId: string, trigger: string, error: unknown): Promise<void> {
  await runSql(db, `insert into sync_runs (account_id, kind, status, trigger, finished_at, error) values (?, 'reconcile', 'failed', ?, now(), ?)`,
    [accountId, trigger, String((error as Error)?.message ?? error).slice(0, 500)]);
}
