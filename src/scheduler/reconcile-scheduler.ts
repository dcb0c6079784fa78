// Runs reconciles inside `idsync serve`: every pending request (a SCIM change, a rule change) within a
// fraction of a second, and every account on a schedule so drift (a manual edit of a managed row)
// is repaired. node-cron's noOverlap keeps one full pass at a time; runs of one account are serialised
// by the account row lock inside reconcileAccount, so several replicas never apply twice.
import { hostname } from "node:os";
import cron, { type ScheduledTask, type TaskContext } from "node-cron";
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";
import { reconcileAccount } from "../reconcile/reconcile-account.ts";
import { recordFailedRun, remindHeldRuns } from "../reconcile/runs.ts";

/** Which process did a run, in the log: the replica's name when it has one. */
function replicaName(): string {
  return process.env.IDSYNC_REPLICA_NAME ?? `${hostname()}:${process.pid}`;
}

/** A cron firing's slot: its time floored to the minute, ISO (every replica names the same slot alike). */
function slotOf(firedAt: Date): string {
  return new Date(Math.floor(firedAt.getTime() / 60_000) * 60_000).toISOString();
}

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
    this.task = cron.schedule(this.options.fullReconcileCron ?? "*/10 * * * *", (context: TaskContext) => this.reconcileEverything(slotOf(context.date)), {
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

  /** Reconciles every account; `slot` (a scheduled pass's start) makes each account's finish a log line. */
  async reconcileEverything(slot?: string): Promise<void> {
    const { rows } = await runSql<{ id: string }>(this.options.db, `select id from accounts order by slug`);
    const replica = replicaName();
    for (const { id } of rows) {
      const finished = await this.run(id, "scheduled");
      // the fleet benchmark's contract: one line per finished full reconcile of one account in a slot
      if (finished && slot !== undefined) this.options.log.info({ accountId: id, slot, replica }, "full reconcile done");
    }
    // a held run never expires silently: an event and its alert are refreshed while it waits
    await remindHeldRuns(this.options.db).catch((error) => this.options.log.error({ err: error }, "reminding of held runs failed"));
  }

  /** True when the run finished (whatever it changed); false when it failed and changed nothing. */
  private async run(accountId: string, trigger: string): Promise<boolean> {
    try {
      const result = await reconcileAccount(this.options.db, accountId, { trigger, scope: trigger === "snapshot change" ? "requests" : "account" });
      this.backoff.delete(accountId);
      if (result.status !== "nothing-to-do") this.options.log.info({ accountId, runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld }, "reconciled");
      return true;
    } catch (error) {
      this.options.log.error({ err: error, accountId }, "reconcile failed; nothing was changed");
      await recordFailedRun(this.options.db, accountId, trigger, error).catch(() => undefined);
      // the requests stay pending, so a later poll retries them
      const delayMs = Math.min(300_000, (this.backoff.get(accountId)?.delayMs ?? 500) * 2);
      this.backoff.set(accountId, { until: Date.now() + delayMs, delayMs });
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.task?.stop();
    await this.draining;
  }
}
