// Full reconciles run in a worker thread of their own, beside the event loop that answers SCIM. A
// 100,000-user account's plan is about a second of JavaScript at a stretch (measured with
// monitorEventLoopDelay); on the HTTP thread every request the replica answered meanwhile waited for
// it, a departure's 200 included (bench:fleet's deactivation p99 went over its 300 ms target on that
// alone). The thread has its own connection pool and runs the same reconcileAccount; only the run's
// summary crosses back. PostgreSQL only: the embedded database is one session in one thread.
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { countReconcileRun } from "../metrics/metrics.ts";
import type { ReconcileOptions, ReconcileOutcome } from "../reconcile/reconcile-account.ts";

/** What a full run in the thread answers (its plan stays there). */
export type FullRunSummary = Pick<ReconcileOutcome, "runId" | "status" | "applied" | "withheld" | "appliedByType">;

/** What the thread is started with. */
export interface FullReconcileThreadData {
  readonly url: string;
  /** The schema idsync's tables are in (the main pool's search_path). */
  readonly schema: string;
}

export type ThreadRequest = { readonly id: number; readonly accountId: string; readonly options: FullRunOptions } | { readonly id: number; readonly close: true };

/** The options a full run in the thread takes (plain data: they cross to the thread). */
export type FullRunOptions = Pick<ReconcileOptions, "trigger" | "deferWhenBusy" | "onceKey">;
export type ThreadAnswer =
  | { readonly id: number; readonly summary: FullRunSummary }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } }
  | { readonly id: number; readonly closed: true }
  /** Sent once, when the thread has loaded its modules (id 0: it answers no request). */
  | { readonly id: 0; readonly ready: true };

/**
 * The thread: the compiled entry (dist/), or the TypeScript sources like this file (tsx, tests), which
 * the thread loads through tsx's loader (Node 20 does not pass a process's module hooks to its threads).
 */
function startThread(data: FullReconcileThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./full-reconcile-thread-entry.js", here), { workerData: data });
  // the ESM build of tsx's API (require.resolve would name its CommonJS one)
  const tsx = new URL("dist/esm/api/index.mjs", pathToFileURL(createRequire(here).resolve("tsx/package.json"))).href;
  const entry = new URL("./full-reconcile-thread-entry.ts", here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** How long a closing thread may take to release its connections before it is terminated. */
const CLOSE_MS = 5_000;

export class FullReconcileThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (answer: ThreadAnswer) => void; reject: (error: Error) => void }>();

  constructor(private readonly data: FullReconcileThreadData) {}

  /** The account's full reconcile, in the thread; its metrics are counted here, where /metrics reads them. */
  async run(accountId: string, options: FullRunOptions): Promise<FullRunSummary> {
    const answer = await this.ask({ id: this.nextId++, accountId, options });
    if ("error" in answer) throw Object.assign(new Error(answer.error.message), { name: answer.error.name, stack: answer.error.stack });
    if (!("summary" in answer)) throw new Error("the full-reconcile thread answered a run with something else");
    countReconcileRun(answer.summary.status, answer.summary.appliedByType);
    return answer.summary;
  }

  /**
   * Starts the thread now and waits until it has loaded its modules, rather than at the first full
   * reconcile: three replicas loading theirs at once at the first slot's start, on two cores, held up
   * the first deactivations they answered (bench:fleet: the 5 slowest of 200, 300–900 ms, all there).
   */
  async start(): Promise<void> {
    this.worker ??= this.spawn();
    const worker = this.worker;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: ThreadAnswer) => {
        if (!("ready" in message)) return;
        worker.off("message", onMessage);
        worker.off("exit", onExit);
        resolve();
      };
      const onExit = (code: number) => reject(new Error(`the full-reconcile thread stopped while starting (exit code ${code})`));
      worker.on("message", onMessage);
      worker.once("exit", onExit);
    });
  }

  /** Closes the thread's pool and ends it (after the queue's workers stopped: no run is in flight). */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const closed = this.ask({ id: this.nextId++, close: true }).catch(() => undefined);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_MS);
    await closed;
    await exited;
    clearTimeout(timer);
  }

  private ask(request: ThreadRequest): Promise<ThreadAnswer> {
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  private spawn(): Worker {
    const worker = startThread(this.data);
    worker.on("message", (answer: ThreadAnswer) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      waiter?.resolve(answer);
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    // a thread that dies fails the runs it held (the queue retries them) and the next run starts a new one
    worker.on("error", (error) => failAll(error));
    worker.on("exit", (code) => failAll(new Error(`the full-reconcile thread stopped (exit code ${code})`)));
    return worker;
  }
}
