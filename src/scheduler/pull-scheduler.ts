// The Google and Graph pulls inside `idsync serve`: each pulled connection's schedules on node-cron
// (UTC), re-read every minute so new or changed connections are picked up without a restart. A
// schedule firing hands its slot to `onFire` (the job queue: one replica queues it, any replica runs
// it through runScheduled). One run per connection at a time is kept by the lease in runPull, which
// an operator's `idsync sync` (runNow) shares, with the connection's request budget.
import cron, { type ScheduledTask } from "node-cron";
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";
import { checkConnectionConfig, type ConnectionConfig } from "../sources/connection-config.ts";
import { RequestBudget } from "../sources/google/request-budget.ts";
import { DEFAULT_QUOTA_PER_MINUTE } from "../sources/google/google-connection.ts";
import { runPull, type PullDeps, type PullMode, type PullOptions, type PullResult } from "./pull-run.ts";

export interface PullSchedulerOptions {
  readonly db: Knex;
  readonly log: Logger;
  /** Tests and the demo: how to reach a connection's directory (fakes, their CA, injected auth). */
  readonly depsFor?: (connectionId: string) => PullDeps;
}

/** A schedule of `connectionId` fired at `firedAt`. */
export type FireSlot = (connectionId: string, mode: PullMode, firedAt: Date) => Promise<void>;

interface Scheduled {
  readonly signature: string;
  readonly tasks: ScheduledTask[];
}

export class PullScheduler {
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly budgets = new Map<string, RequestBudget>();
  private refresher: ScheduledTask | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private onFire: FireSlot | undefined;

  constructor(private readonly options: PullSchedulerOptions) {}

  /** Schedules every pulled connection; each firing goes to `onFire` (default: pull here and now). */
  async start(onFire?: FireSlot): Promise<void> {
    this.onFire = onFire;
    await this.refresh();
    this.refresher = cron.schedule("* * * * *", () => this.refresh(), { name: "pull-schedules", timezone: "UTC", noOverlap: true });
  }

  /** One pull now (an operator's `idsync sync`, or a schedule firing). */
  async runNow(connectionId: string, options: PullOptions): Promise<PullResult> {
    const run = runPull(this.options.db, connectionId, options, this.deps(connectionId));
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  private deps(connectionId: string): PullDeps {
    const injected = this.options.depsFor?.(connectionId) ?? {};
    // Google's quota is per user and per minute: every pull of a connection draws on one budget
    return { ...injected, google: { budget: this.budget(connectionId), ...injected.google } };
  }

  private budget(connectionId: string, perMinute = DEFAULT_QUOTA_PER_MINUTE): RequestBudget {
    let budget = this.budgets.get(connectionId);
    if (!budget || budget.perMinute !== perMinute) this.budgets.set(connectionId, (budget = new RequestBudget(perMinute)));
    return budget;
  }

  /** Brings the cron tasks in line with the connections in the database. */
  private async refresh(): Promise<void> {
    const { rows } = await runSql<{ id: string; kind: "google" | "graph"; config: unknown }>(this.options.db,
      `select id, kind, config from directory_connections where kind in ('google', 'graph') and status = 'active'`).catch((error) => {
      this.options.log.error({ err: error }, "reading the pulled connections failed");
      return { rows: null };
    });
    if (rows === null) return;
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      let config: ConnectionConfig;
      try {
        config = checkConnectionConfig(row.kind, row.config);
      } catch (error) {
        this.options.log.error({ err: error, connectionId: row.id }, "a pulled connection's settings are invalid; it is not scheduled");
        continue;
      }
      if (config.kind === "google") this.budget(row.id, config.source.quotaPerMinute);
      const signature = JSON.stringify(config.pull.schedule);
      if (this.scheduled.get(row.id)?.signature === signature) continue;
      await this.unschedule(row.id);
      const modes: Array<[PullMode, string | undefined]> = config.kind === "google"
        ? [["full", config.pull.schedule.full], ["departures", config.pull.schedule.departures]]
        : [["full", config.pull.schedule.full], ["delta", config.pull.schedule.delta]];
      const tasks = modes.filter((m): m is [PullMode, string] => m[1] !== undefined).map(([mode, expression]) =>
        cron.schedule(expression, (context) => (this.onFire ? this.onFire(row.id, mode, context.date) : this.runScheduled(row.id, mode)), { name: `pull-${row.id}-${mode}`, timezone: "UTC", noOverlap: true }));
      this.scheduled.set(row.id, { signature, tasks });
    }
    for (const id of [...this.scheduled.keys()]) if (!seen.has(id)) await this.unschedule(id);
  }

  /** A scheduled pull, logged; never throws (a failed pull is recorded as its run and alerts). */
  async runScheduled(connectionId: string, mode: PullMode): Promise<void> {
    try {
      const result = await this.runNow(connectionId, { mode, trigger: "scheduled" });
      const level = result.status === "succeeded" || result.status === "busy" ? "info" : "warn";
      this.options.log[level]({ connectionId, mode, runId: result.runId, status: result.status, calls: result.calls, durationMs: Math.round(result.durationMs), error: result.error }, "pull finished");
    } catch (error) {
      this.options.log.error({ err: error, connectionId, mode }, "pull failed");
    }
  }

  private async unschedule(connectionId: string): Promise<void> {
    for (const task of this.scheduled.get(connectionId)?.tasks ?? []) await task.stop();
    this.scheduled.delete(connectionId);
  }

  /** Stops the schedules and waits for the pulls in flight (their transactions finish or roll back). */
  async stop(): Promise<void> {
    await this.refresher?.stop();
    for (const id of [...this.scheduled.keys()]) await this.unschedule(id);
    await Promise.allSettled([...this.running]);
  }
}
