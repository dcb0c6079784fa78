// Runs reconciles inside `idsync serve`: every pending request (a SCIM change, a rule change) within a
// fraction of a second, and every account on a schedule so drift (a manual edit of a managed row)
// is repaired. node-cron's noOverlap keeps one full pass at a time; runs of one account are serialised
// by the account row lock inside reconcileAccount, so several replicas never apply twice.
import cron, { type ScheduledTask } from "node-cron";
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";
import { reconcileAccount } from "../reconcile/reconcile-account.ts";
import { recordFailedRun, remindHeldRuns } from "../reconcile/runs.ts";

export interface ReconcileSchedulerOptions {
  db: Knex;
  log: Logger;
  /** How often pending requests are looked for. */
  pollMs?: number;
  /** Cron expression of the full reconcile of every account (UTC). */
  fullReconcileCron?: string;
}

export class ReconcileScheduler {
  private timer: NodeJS.Timeout | undefined;
  private task: ScheduledTask | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  /** An account whose reconcile keeps failing is retried with growing pauses, up to five minutes. */
  private readonly backoff = new Map<string, { until: number; delayMs: number }>();

  constructor(private readonly options: ReconcileSchedulerOptions) {}

  start(): void {
    this.schedulePoll();
    this.task = cron.schedule(this.options.fullReconcileCron ?? "*/10 * * * *", () => this.reconcileEverything(), {
      name: "full-reconcile", timezone: "UTC", noOverlap: true,
    });
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.draining = this.drainRequests().then(() => undefined, () => undefined).finally(() => this.schedulePoll());
    }, this.options.pollMs ?? 200);
  }

  /** Reconciles every account with pending requests; returns how many runs it made. */
  async drainRequests(): Promise<number> {
    const { rows } = await runSql<{ account_id: string }>(this.options.db,
      `select distinct account_id from reconcile_requests where processed_at is null limit 50`).catch((error) => {
      this.options.log.error({ err: error }, "looking for reconcile requests failed");
      return { rows: [] as Array<{ account_id: string }> };
    });
    const due = rows.filter((r) => (this.backoff.get(r.account_id)?.until ?? 0) <= Date.now());
    for (const { account_id: accountId } of due) await this.run(accountId, "snapshot change");
    return due.length;
  }

  async reconcileEverything(): Promise<void> {
    const { rows } = await runSql<{ id: string }>(this.options.db, `select id from accounts order by slug`);
    for (const { id } of rows) await this.run(id, "scheduled");
    // a held run never expires silently: an event and its alert are refreshed while it waits
    await remindHeldRuns(this.options.db).catch((error) => this.options.log.error({ err: error }, "reminding of held runs failed"));
  }

  private async run(accountId: string, trigger: string): Promise<void> {
    try {
      const result = await reconcileAccount(this.options.db, accountId, { trigger, scope: trigger === "snapshot change" ? "requests" : "account" });
      this.backoff.delete(accountId);
      if (result.status !== "nothing-to-do") this.options.log.info({ accountId, runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld }, "reconciled");
    } catch (error) {
      this.options.log.error({ err: error, accountId }, "reconcile failed; nothing was changed");
      await recordFailedRun(this.options.db, accountId, trigger, error).catch(() => undefined);
      // the requests stay pending, so a later poll retries them
      const delayMs = Math.min(300_000, (this.backoff.get(accountId)?.delayMs ?? 500) * 2);
      this.backoff.set(accountId, { until: Date.now() + delayMs, delayMs });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.task?.stop();
    await this.draining;
  }
}
