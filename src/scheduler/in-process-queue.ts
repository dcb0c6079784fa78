// The job queue on the embedded database: one process may open it, so a queue in that process's
// memory is enough, with graphile-worker's contract — one waiting job per key, a job added while
// its key runs is queued again, failures retried after exp(attempt) seconds (capped at 5 minutes).
// Nothing is lost at a restart: every job is derived from rows the database keeps (pending reconcile
// requests, undelivered webhooks, the schedules) and the start-up sweep queues them again.
import type { Logger } from "../log/logger.ts";
import type { JobQueue, JobSpec, TaskHandlers } from "./job-queue.ts";

interface Waiting {
  spec: JobSpec;
  runAt: number;
  attempts: number;
}

export class InProcessQueue implements JobQueue {
  readonly kind = "in-process";
  private readonly waiting = new Map<string, Waiting>();
  private readonly running = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private handlers: TaskHandlers | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly log: Logger, private readonly concurrency = 1, private readonly now: () => number = Date.now) {}

  async add(jobs: readonly JobSpec[]): Promise<void> {
    for (const spec of jobs) this.waiting.set(spec.key, { spec, runAt: spec.runAt?.getTime() ?? this.now(), attempts: this.waiting.get(spec.key)?.attempts ?? 0 });
    this.pump();
  }

  async start(handlers: TaskHandlers): Promise<void> {
    this.handlers = handlers;
    this.stopped = false;
    this.pump();
  }

  /** Starts what is due, and sets a timer for the next job that is not. */
  private pump(): void {
    if (!this.handlers || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    let next = Infinity;
    const byPriority = [...this.waiting].sort(([, a], [, b]) => (a.spec.priority ?? 0) - (b.spec.priority ?? 0) || a.runAt - b.runAt);
    for (const [key, waiting] of byPriority) {
      if (this.inFlight.size >= this.concurrency) break;
      if (this.running.has(key)) continue;
      if (waiting.runAt > now) { next = Math.min(next, waiting.runAt); continue; }
      this.waiting.delete(key);
      this.run(key, waiting);
    }
    if (next !== Infinity) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, next - now));
      this.timer.unref();
    }
  }

  private run(key: string, waiting: Waiting): void {
    const handler = this.handlers![waiting.spec.task] as (payload: unknown) => Promise<void>;
    this.running.add(key);
    const done = handler(waiting.spec.payload).then(() => undefined, (error) => {
      const attempts = waiting.attempts + 1;
      const maxAttempts = waiting.spec.maxAttempts ?? 10;
      this.log.warn({ err: error, task: waiting.spec.task, key, attempts }, attempts < maxAttempts ? "job failed; it is retried" : "job failed for the last time");
      // a newer job of the key supersedes the retry
      if (attempts < maxAttempts && !this.waiting.has(key)) {
        this.waiting.set(key, { spec: waiting.spec, attempts, runAt: this.now() + Math.min(300_000, Math.exp(attempts) * 1000) });
      }
    }).finally(() => {
      this.running.delete(key);
      this.inFlight.delete(done);
      this.pump();
    });
    this.inFlight.add(done);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}
