// The job queue on PostgreSQL: graphile-worker, chosen over pg-boss by measuring both here
// (`npm run bench:queues`, PostgreSQL 15, two shared cores): graphile-worker 0.17 ran 470–790 jobs/s
// and started a job 6 ms (p50; 52 ms p99) after it was added, because it wakes on LISTEN/NOTIFY;
// pg-boss 10 polls, and started jobs ~480 ms after they were added — twice the whole budget for
// applying a group change. (The newest releases of both, graphile-worker 0.18 and pg-boss 11+, need
// Node 22; idsync runs on Node 20.)
//
// graphile-worker frees a crashed worker's jobs only after 4 hours. A replica killed mid-job must
// not hold its account's reconcile that long, so each replica says which of its workers are alive
// (worker-liveness.ts) and any replica frees the jobs of workers that stopped saying so.
import { Logger as GraphileLogger, makeWorkerUtils, run, type Runner, type Task, type TaskList, type WorkerUtils } from "graphile-worker";
import type { Logger } from "../log/logger.ts";
import { LANES, type JobQueue, type JobSpec, type TaskHandlers } from "./job-queue.ts";
import { WorkerLiveness } from "./worker-liveness.ts";
import type { Knex } from "knex";
import { EventEmitter } from "node:events";
import type { WorkerEvents } from "graphile-worker";

export interface GraphileQueueOptions {
  readonly url: string;
  readonly db: Knex;
  readonly log: Logger;
  /** Jobs run at once in this process (each holds a database connection while it runs). */
  readonly concurrency: number;
  /** Where graphile-worker keeps its tables (tests give each database schema its own). */
  readonly schema?: string;
  /** This replica's name, recorded beside its workers. */
  readonly replica: string;
  /** Asked before each fetch of a scheduled worker: the job flags to skip this time (replica-shares.ts). */
  readonly scheduledSkips?: () => string[] | null;
}

/** graphile-worker's log scopes, at our levels: its debug chatter stays out of info logs. */
function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { queue: "graphile-worker", ...scope, ...(meta ?? {}) };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.debug(fields, message);
    else log.trace(fields, message);
  });
}

export class GraphileQueue implements JobQueue {
  readonly kind = "graphile-worker";
  private utils: Promise<WorkerUtils> | undefined;
  private readonly runners: Runner[] = [];
  private liveness: WorkerLiveness | undefined;

  constructor(private readonly options: GraphileQueueOptions) {}

  private workerUtils(): Promise<WorkerUtils> {
    // makeWorkerUtils installs or upgrades graphile-worker's schema on first use
    this.utils ??= makeWorkerUtils({ connectionString: this.options.url, schema: this.options.schema, logger: graphileLogger(this.options.log) });
    return this.utils;
  }

  async add(jobs: readonly JobSpec[]): Promise<void> {
    if (jobs.length === 0) return;
    const utils = await this.workerUtils();
    // one statement per job: addJobs cannot replace a waiting job of the same key
    for (const spec of jobs) {
      await utils.addJob(spec.task, spec.payload, { jobKey: spec.key, jobKeyMode: "replace", runAt: spec.runAt, maxAttempts: spec.maxAttempts ?? 10, priority: spec.priority ?? 0, flags: spec.flags ? [...spec.flags] : undefined });
    }
  }

  async start(handlers: TaskHandlers): Promise<void> {
    await this.workerUtils().then((u) => u.migrate());
    this.liveness = new WorkerLiveness({ db: this.options.db, log: this.options.log, replica: this.options.replica, schema: this.options.schema ?? "graphile_worker",
      unlock: async (workerIds) => (await this.workerUtils()).forceUnlockWorkers(workerIds) });
    // the workers are created inside run(): listen before it
    const events = new EventEmitter() as WorkerEvents;
    events.on("worker:create", ({ worker }) => this.liveness?.track(worker.workerId));
    events.on("worker:stop", ({ worker }) => this.liveness?.untrack(worker.workerId));
    // one runner per lane: a worker claims only the tasks of its own list, so a change never waits for a
    // worker that a scheduled pass keeps busy
    for (const [lane, tasks] of Object.entries(LANES)) {
      const taskList: TaskList = {};
      for (const name of tasks) {
        const handler = handlers[name] as (payload: unknown) => Promise<void>;
        taskList[name] = (async (payload: unknown) => handler(payload)) as Task;
      }
      this.runners.push(await run({
        events,
        connectionString: this.options.url,
        schema: this.options.schema,
        concurrency: this.options.concurrency,
        // future jobs (a spread slot, a retry) are found by polling; new ones arrive by NOTIFY at once
        pollInterval: 1000,
        noHandleSignals: true,
        forbiddenFlags: lane === "scheduled" ? this.options.scheduledSkips : undefined,
        taskList,
        logger: graphileLogger(this.options.log),
      }));
    }
    await this.liveness.start();
  }

  async stop(): Promise<void> {
    for (const runner of this.runners.splice(0)) await runner.stop();
    await this.liveness?.stop();
    await (await this.utils)?.release();
  }
}
