// What a reconcile job does (background-work.ts queues them): an account's pending requests (a SCIM
// write, a rule change, a pull) or its full reconcile, which repairs drift such as a manual edit of a
// managed row. Runs of one account are serialised by the account row lock inside reconcileAccount, so
// two replicas that take two jobs of one account never apply twice. A failure changes nothing and is
// recorded as a failed run; the caller (the queue) retries it with backoff.
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";
import { reconcileAccount, type ReconcileResult } from "../reconcile/reconcile-account.ts";
import { recordFailedRun, remindHeldRuns } from "../reconcile/runs.ts";
import type { FullReconcileThread, FullRunSummary } from "./full-reconcile-thread.ts";

/** Accounts with reconcile requests not yet answered. */
export async function accountsWithPendingRequests(db: Knex): Promise<string[]> {
  const { rows } = await runSql<{ account_id: string }>(db, `select distinct account_id from reconcile_requests where processed_at is null`);
  return rows.map((r) => r.account_id);
}

export interface ReconcileSchedulerOptions {
  db: Knex;
  log: Logger;
  /** This replica's name in the log. */
  replica?: string;
  /** Where full reconciles run (PostgreSQL: a thread apart from the HTTP event loop); else in this thread. */
  fullRuns?: FullReconcileThread;
}

export class ReconcileScheduler {
  constructor(private readonly options: ReconcileSchedulerOptions) {}

  /** Reconciles what the account's pending requests name. */
  requested(accountId: string): Promise<ReconcileResult["status"]> {
    return this.run(accountId, "snapshot change", () => reconcileAccount(this.options.db, accountId, { trigger: "snapshot change", scope: "requests" }));
  }

  /** The scheduled full reconcile of one account: once in `slot` (ISO time), however often its job runs. */
  scheduled(accountId: string, slot?: string): Promise<ReconcileResult["status"]> {
    const { fullRuns, db } = this.options;
    const options = { trigger: "scheduled", deferWhenBusy: true, onceKey: slot ? `full:${slot}` : undefined };
    return this.run(accountId, "scheduled", () => fullRuns ? fullRuns.run(accountId, options) : reconcileAccount(db, accountId, { ...options, scope: "account" }));
  }

  /** Every account with pending requests, now (tests; the queue's start-up sweep does this per account). */
  async drainRequests(): Promise<number> {
    const accounts = await accountsWithPendingRequests(this.options.db);
    for (const accountId of accounts) await this.requested(accountId).catch(() => undefined);
    return accounts.length;
  }

  /** Every account's full reconcile, one after another, then the held-run reminders (tests). */
  async reconcileEverything(): Promise<void> {
    const { rows } = await runSql<{ id: string }>(this.options.db, `select id from accounts order by slug`);
    for (const { id } of rows) await this.scheduled(id).catch(() => undefined);
    await remindHeldRuns(this.options.db);
  }

  private async run(accountId: string, trigger: string, reconcile: () => Promise<FullRunSummary>): Promise<ReconcileResult["status"]> {
    try {
      const result = await reconcile();
      if (result.status === "deferred") {
        this.options.log.warn({ accountId, replica: this.options.replica }, "full reconcile deferred to the next slot: other runs applied to the account during each of its plans");
      } else if (result.status !== "nothing-to-do") {
        this.options.log.info({ accountId, runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld, replica: this.options.replica }, "reconciled");
      }
      return result.status;
    } catch (error) {
      this.options.log.error({ err: error, accountId }, "reconcile failed; nothing was changed");
      await recordFailedRun(this.options.db, accountId, trigger, error).catch(() => undefined);
      throw error;
    }
  }
}
