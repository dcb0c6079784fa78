// Everything `idsync serve` does besides answering HTTP, as jobs on one queue: reconciles a write
// asked for, the scheduled full reconcile of every account, each pull, webhook deliveries, held-run
// reminders. Schedules fire on every replica; one replica claims each slot and queues its jobs; any
// replica's workers take any job. Writers never talk to the queue: their rows (reconcile requests,
// events) notify the listening replicas, which queue the work within milliseconds.
import cron, { type ScheduledTask } from "node-cron";
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import type { Database } from "../db/database.ts";
import { runSql } from "../db/run-sql.ts";
import { remindHeldRuns } from "../reconcile/runs.ts";
import { accountsWithPendingRequests, ReconcileScheduler } from "./reconcile-scheduler.ts";
import { WebhookDispatcher } from "../webhooks/webhook-dispatcher.ts";
import { job, PRIORITY, type JobQueue, type JobSpec, type TaskHandlers } from "./job-queue.ts";
import { InProcessQueue } from "./in-process-queue.ts";
import { FullReconcileThread } from "./full-reconcile-thread.ts";
import { FULL_RECONCILE_FLAG, ReplicaShares } from "./replica-shares.ts";
import { claimSlot, forgetOldSlots, slotOf } from "./schedule-slots.ts";
import { spreadAcrossSlot } from "./slot-spread.ts";
import { nextRun } from "./next-run.ts";
import type { PullScheduler } from "./pull-scheduler.ts";
import type { PullMode } from "./pull-run.ts";

export interface BackgroundOptions {
  readonly database: Database;
  readonly log: Logger;
  readonly pulls: PullScheduler;
  /** Cron expression (UTC) of the full reconcile of every account. */
  readonly fullReconcileSchedule: string;
  /** Jobs this replica runs at once in each lane (LANES in job-queue.ts; PostgreSQL only). */
  readonly concurrency: number;
  /** This replica's name in logs and in the queue's records. */
  readonly replica: string;
  /** graphile-worker's schema (tests). */
  readonly queueSchema?: string;
  readonly webhooks?: WebhookDispatcher;
  /** The part of a slot its full reconciles are spread over (default 0.8; tests: 0, all at once). */
  readonly spread?: number;
}

/** The part of a slot over which its full reconciles are spread, so the last ends before the next slot. */
const SPREAD = 0.8;
/** Writes that arrive together (a burst of SCIM requests for one account) queue one job. */
const COALESCE_MS = 5;

/** The one waiting reconcile of an account's pending requests. */
const requestsJob = (accountId: string) => job("reconcile_requests", { accountId }, `requests:${accountId}`);

export class BackgroundWork {
  queue!: JobQueue;
  readonly replica: string;
  private readonly db: Knex;
  private readonly webhooks: WebhookDispatcher;
  private reconciles: ReconcileScheduler;
  private fullRuns: FullReconcileThread | undefined;
  private shares: ReplicaShares | undefined;
  private fullTask: ScheduledTask | undefined;
  private readonly unlisten: Array<() => Promise<void>> = [];
  private readonly wanted = new Set<string>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private webhooksWanted = false;

  constructor(private readonly options: BackgroundOptions) {
    this.db = options.database.knex;
    this.replica = options.replica;
    this.webhooks = options.webhooks ?? new WebhookDispatcher({ db: this.db, log: options.log });
    this.reconciles = new ReconcileScheduler({ db: this.db, log: options.log, replica: this.replica });
    if (!options.database.url) this.queue = new InProcessQueue(options.log, 1);
  }

  /**
   * graphile-worker's schema: `graphile_worker` beside tables in `public`, else `<schema>_jobs`, so
   * idsync installations kept apart by search_path in one database keep their queues apart too.
   */
  private async openQueue(): Promise<JobQueue> {
    if (this.queue) return this.queue;
    const { rows: [row] } = await runSql<{ schema: string }>(this.db, `select current_schema() as schema`);
    const schema = this.options.queueSchema ?? (row!.schema === "public" ? "graphile_worker" : `${row!.schema}_jobs`);
    const { database, log, concurrency } = this.options;
    this.fullRuns = new FullReconcileThread({ url: database.url!, schema: row!.schema });
    this.reconciles = new ReconcileScheduler({ db: this.db, log, replica: this.replica, fullRuns: this.fullRuns });
    const shares = (this.shares = new ReplicaShares({ db: this.db, log, replica: this.replica }));
    // loaded only on PostgreSQL: the embedded database's start does not pay for graphile-worker's imports
    const { GraphileQueue } = await import("./graphile-queue.ts");
    this.queue = new GraphileQueue({ url: database.url!, db: this.db, log, concurrency, schema, replica: this.replica, scheduledSkips: () => shares.forbidden() });
    return this.queue;
  }

  /** What each job does. */
  private handlers(): TaskHandlers {
    const { log } = this.options;
    return {
      reconcile_requests: async ({ accountId }) => {
        await this.reconciles.requested(accountId);
      },
      full_reconcile: async ({ accountId, slot }) => {
        this.shares?.ran(slot);
        const started = performance.now();
        const status = await this.reconciles.scheduled(accountId, slot);
        const fields = { accountId, slot, replica: this.replica, status, ms: Math.round(performance.now() - started) };
        // one line per account and slot: how operators (and bench:fleet) see that every account ran once;
        // a job run again after its replica died past the run's commit finds the slot's run done
        if (status === "already-done") log.info(fields, "full reconcile already done in this slot");
        else log.info(fields, "full reconcile done");
      },
      pull: async ({ connectionId, mode }) => {
        await this.options.pulls.runScheduled(connectionId, mode);
      },
      webhooks: async () => {
        await this.webhooks.tick();
        await this.queueNextWebhookRetry();
      },
      held_reminders: async () => {
        await remindHeldRuns(this.db);
        await forgetOldSlots(this.db);
      },
    };
  }

  /** Starts the workers, the schedules and the wake-ups, then queues what was left pending. */
  async start(): Promise<void> {
    await (await this.openQueue()).start(this.handlers());
    await this.fullRuns?.start();
    this.shares?.start();
    this.unlisten.push(await this.options.database.listen("idsync_reconcile_requested", (accountId) => (accountId ? this.want(accountId) : void this.sweep())));
    this.unlisten.push(await this.options.database.listen("idsync_event_recorded", () => this.wantWebhooks()));
    this.fullTask = cron.schedule(this.options.fullReconcileSchedule, (context) => this.fullReconcileSlot(slotOf(context.date)), {
      name: "full-reconcile", timezone: "UTC",
    });
    await this.options.pulls.start((connectionId, mode, firedAt) => this.pullSlot(connectionId, mode, slotOf(firedAt)));
    await this.sweep();
  }

  /** Queues a reconcile for every account with requests pending, and one webhook pass. */
  async sweep(): Promise<void> {
    await this.queue.add([
      ...(await accountsWithPendingRequests(this.db)).map(requestsJob),
      job("webhooks", {}, "webhooks"),
    ]);
  }

  private want(accountId: string): void {
    this.wanted.add(accountId);
    this.wakeTimer ??= setTimeout(() => void this.flushWanted(), COALESCE_MS);
  }

  private wantWebhooks(): void {
    this.webhooksWanted = true;
    this.wakeTimer ??= setTimeout(() => void this.flushWanted(), COALESCE_MS);
  }

  private async flushWanted(): Promise<void> {
    this.wakeTimer = undefined;
    const jobs: JobSpec[] = [...this.wanted].map(requestsJob);
    if (this.webhooksWanted) jobs.push(job("webhooks", {}, "webhooks"));
    this.wanted.clear();
    this.webhooksWanted = false;
    await this.queue.add(jobs).catch((error) => this.options.log.error({ err: error }, "queueing background work failed; the start-up sweep or the next full reconcile picks it up"));
  }

  /** A delivery waiting for its retry time gets a job at that time. */
  private async queueNextWebhookRetry(): Promise<void> {
    const { rows: [next] } = await runSql<{ at: Date | null }>(this.db,
      `select min(next_attempt_at) as at from webhook_deliveries where status = 'pending' and next_attempt_at > now()`);
    if (next?.at) await this.queue.add([job("webhooks", {}, "webhooks-retry", { runAt: new Date(next.at) })]);
  }

  /** One replica queues each account's full reconcile, spread across the slot. */
  async fullReconcileSlot(slot: Date): Promise<number | null> {
    try {
      const queued = await claimSlot(this.db, "full_reconcile", slot, this.replica, async (trx) => {
        const { rows } = await runSql<{ id: string }>(trx, `select id from accounts order by md5(id::text)`);
        const next = nextRun(this.options.fullReconcileSchedule);
        const times = spreadAcrossSlot(rows.length, slot, next, this.options.spread ?? SPREAD);
        const iso = slot.toISOString();
        await this.queue.add([
          ...rows.map((r, i) => job("full_reconcile", { accountId: r.id, slot: iso }, `full:${r.id}`, { runAt: times[i], maxAttempts: 3, priority: PRIORITY.scheduled, flags: [FULL_RECONCILE_FLAG] })),
          job("held_reminders", { slot: iso }, "held-reminders", { priority: PRIORITY.scheduled }),
        ]);
        return rows.length;
      });
      if (queued !== null) this.options.log.info({ slot: slot.toISOString(), accounts: queued, replica: this.replica }, "full-reconcile slot queued");
      return queued;
    } catch (error) {
      this.options.log.error({ err: error, slot: slot.toISOString() }, "queueing the full-reconcile slot failed");
      return null;
    }
  }

  private async pullSlot(connectionId: string, mode: PullMode, slot: Date): Promise<void> {
    const iso = slot.toISOString();
    await claimSlot(this.db, `pull:${connectionId}:${mode}`, slot, this.replica, async () => {
      await this.queue.add([job("pull", { connectionId, mode, slot: iso }, `pull:${connectionId}:${mode}`, { maxAttempts: 1, priority: PRIORITY.pull })]);
      return 1;
    }).catch((error) => this.options.log.error({ err: error, connectionId, mode }, "queueing a scheduled pull failed"));
  }

  /** A pull interrupted by an earlier stop, run again now by whichever replica takes it. */
  async retryPull(connectionId: string): Promise<void> {
    await this.queue.add([job("pull", { connectionId, mode: "delta", slot: new Date().toISOString() }, `pull:${connectionId}:retry`, { maxAttempts: 1, priority: PRIORITY.pull })]);
  }

  async stop(): Promise<void> {
    await this.fullTask?.stop();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    for (const unlisten of this.unlisten.splice(0)) await unlisten();
    await this.queue?.stop();
    await this.shares?.stop();
    await this.fullRuns?.stop();
  }
}
