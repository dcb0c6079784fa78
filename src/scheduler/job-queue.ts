// The one interface every kind of background work goes through. On PostgreSQL it is graphile-worker
// (claims with SKIP LOCKED, wakes on LISTEN/NOTIFY, so any replica takes any job and the work
// divides); on the embedded database an in-process queue with the same contract, for the one process
// that may open it. Measured (`npm run bench:queues`): over PGlite's socket server graphile-worker
// stalls after its first job (and with one connection fails, "Connection terminated unexpectedly"),
// and pg-boss runs but only polls, starting a job ~480 ms after it is added — twice the budget for
// applying a group change; PGlite delivers NOTIFY to the process that holds it, which the in-process
// queue uses.

/** What the background does, one task per kind of work. */
export interface TaskPayloads {
  /** Reconcile what an account's pending reconcile requests name (a SCIM write, a rule change, a pull). */
  readonly reconcile_requests: { readonly accountId: string };
  /** The scheduled full reconcile of one account in one slot. */
  readonly full_reconcile: { readonly accountId: string; readonly slot: string };
  /** One pull of one connection in one slot of one of its schedules. */
  readonly pull: { readonly connectionId: string; readonly mode: "full" | "departures" | "delta"; readonly slot: string };
  /** Enqueue the outbox's new events for their endpoints and send what is due. */
  readonly webhooks: Record<string, never>;
  /** Refresh the alert and event of every run still held (each full-reconcile slot). */
  readonly held_reminders: { readonly slot: string };
}

export type TaskName = keyof TaskPayloads;

/**
 * Which workers take which tasks: what people and IdPs wait for (a change's reconcile, a webhook) has
 * workers of its own, which scheduled passes and pulls never occupy.
 */
export const LANES = {
  changes: ["reconcile_requests", "webhooks"],
  scheduled: ["full_reconcile", "pull", "held_reminders"],
} as const satisfies Record<string, readonly TaskName[]>;

// a task left out of every lane would never run: this fails to compile until it has one
type LaneLess = Exclude<TaskName, (typeof LANES)[keyof typeof LANES][number]>;
export const EVERY_TASK_HAS_A_LANE: [LaneLess] extends [never] ? true : never = true;

/** Scheduled work yields to what people and IdPs are waiting for. */
export const PRIORITY = { change: 0, pull: 5, scheduled: 10 } as const;

export interface JobSpec<T extends TaskName = TaskName> {
  readonly task: T;
  readonly payload: TaskPayloads[T];
  /**
   * At most one job per key waits at a time: adding a key that waits replaces it (its payload and
   * time); adding one that runs queues one more, so a change made during a run is never missed.
   */
  readonly key: string;
  /** Not before (default: now). */
  readonly runAt?: Date;
  /** Tries before the job is given up (default 10; graphile-worker's backoff is exp(attempt) seconds). */
  readonly maxAttempts?: number;
  /** Lower runs first among the jobs due (default 0): a person's change goes before a scheduled pass. */
  readonly priority?: number;
  /** Marks a worker may skip for a while (graphile-worker's job flags; see replica-shares.ts). */
  readonly flags?: readonly string[];
}

export type TaskHandlers = { readonly [T in TaskName]: (payload: TaskPayloads[T]) => Promise<void> };

export interface JobQueue {
  /** "graphile-worker" or "in-process", for the status page and logs. */
  readonly kind: string;
  add(jobs: readonly JobSpec[]): Promise<void>;
  /** Starts taking jobs (a queue that is only added to, like an HTTP-only replica's, is never started). */
  start(handlers: TaskHandlers): Promise<void>;
  /** Stops taking jobs and waits for the ones running. */
  stop(): Promise<void>;
}

/** Typed constructor, so a job's payload always matches its task. */
export function job<T extends TaskName>(task: T, payload: TaskPayloads[T], key: string, options: { runAt?: Date; maxAttempts?: number; priority?: number; flags?: readonly string[] } = {}): JobSpec<T> {
  return { task, payload, key, ...options };
}
