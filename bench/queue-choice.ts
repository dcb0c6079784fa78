// Why idsync's job queue is graphile-worker on PostgreSQL and its own in-process queue on PGlite,
// measured: graphile-worker and pg-boss side by side, on PostgreSQL and on in-memory PGlite, with a
// bare LISTEN/NOTIFY round trip as the floor for "how soon does an idle worker start a new job".
// The figure that decides is wake latency: a group change must be applied within 250 ms, and the
// job that applies it waits for a worker to notice it. Throughput matters less (reconciles are few
// and each takes far longer than the queue's own overhead) but is printed for comparison.
//
//   npm run bench:queues   → prints one JSON object and writes bench/results/queue-choice.json
//
// PostgreSQL: BENCH_DATABASE_URL's server (default postgres@127.0.0.1:5432), in a throwaway database
// idsync_queue_bench that is dropped at the end. Not bench-db.ts's idsync_bench, so this can run
// beside `npm run bench` without dropping its database (it does share the CPUs, though).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { Logger as GraphileLogger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import PgBoss from "pg-boss";
import { adminUrl } from "./bench-db.ts";
import { freePort } from "./processes.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The installed packages, read as files: not every package exports its package.json or its sources. */
const nodeModules = path.join(here, "..", "node_modules");
const DB_NAME = "idsync_queue_bench";
const GROUP_CHANGE_BUDGET_MS = 250;
const THROUGHPUT_JOBS = 3000;
const CONCURRENCY = 4;
const WAKE_SAMPLES = 200;
/** Fewer on PGlite: there both libraries only poll (see below), so each sample costs ~0.5 s. */
const EMBEDDED_WAKE_SAMPLES = 15;
/**
 * pg-boss waits its polling interval after every fetch, even one that returned a job (worker.js), so
 * with one job per fetch it does ~2 jobs/s per worker: cap its run rather than wait minutes for 3,000
 * (and on PGlite everything's). graphile-worker on PostgreSQL runs all 3,000, within its own cap.
 */
const THROUGHPUT_CAP_MS = 5_000;
const FULL_RUN_CAP_MS = 30_000;
/** pg-boss's own answer to throughput: many jobs per fetch (idsync's handlers take one job each). */
const PGBOSS_BATCH = 50;
/** A wake job not started by then is a hang: both libraries poll at least every second. */
const WAKE_TIMEOUT_MS = 5_000;
/** Throughput jobs left waiting while none has finished for this long: the queue has stalled. */
const STALL_MS = 2_500;
/** What idsync's GraphileQueue uses (future jobs are found by polling, new ones by NOTIFY). */
const GRAPHILE_POLL_MS = 1000;
/** pg-boss refuses anything lower (MIN_POLLING_INTERVAL_MS in its attorney.js); its default is 2 s. */
const PGBOSS_POLL_S = 0.5;
const ATTEMPT_TIMEOUT_MS = 20_000;

const pgUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);
}
function version(pkg: string): string {
  return (JSON.parse(readFileSync(path.join(nodeModules, pkg, "package.json"), "utf8")) as { version: string }).version;
}

/** Rejects with "hang: …" when `work` has not settled within `ms`, so a stuck library is reported, not waited on. */
async function withTimeout<T>(label: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${label} had not finished after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error as the report shows it: message, and the first stack frames that say where it came from. */
function describe(error: unknown): { message: string; from?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const frames = (error.stack ?? "").split("\n").slice(1).map((l) => l.trim()).filter((l) => l.startsWith("at ")).slice(0, 3);
  return { message: error.message, from: frames.length ? frames.join(" < ") : undefined };
}

/**
 * The common shape of both libraries for the two workloads: a no-op task that counts, and a "wake"
 * task that records when its handler starts. `addMany` adds in one statement where the library can.
 */
interface QueueUnderTest {
  addMany(n: number): Promise<void>;
  addWake(): Promise<void>;
  onNoop: () => void;
  onWake: () => void;
  stop(): Promise<void>;
}

async function throughput(q: QueueUnderTest, n: number, capMs: number): Promise<{ jobs: number; seconds: number; jobsPerSecond: number; capped: boolean; stalled: boolean }> {
  let done = 0;
  let lastDoneAt = performance.now();
  q.onNoop = () => { done++; lastDoneAt = performance.now(); };
  const started = performance.now();
  await q.addMany(n);
  let capped = false;
  let stalled = false;
  while (done < n) {
    await sleep(5);
    const now = performance.now();
    if (now - started > capMs) { capped = true; break; }
    if (now - lastDoneAt > STALL_MS) { stalled = true; break; }
  }
  const seconds = (performance.now() - started) / 1000;
  return { jobs: done, seconds: round(seconds), jobsPerSecond: round(done / seconds), capped, stalled };
}

/** One job at a time, each added after the previous one's handler started and a 0–20 ms pause. */
async function wake(q: QueueUnderTest, samples: number): Promise<{ samples: number; wakeP50Ms: number; wakeP99Ms: number; wakeMaxMs: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    await sleep(Math.random() * 20);
    let startedAt = 0;
    const started = new Promise<void>((resolve) => { q.onWake = () => { startedAt = performance.now(); resolve(); }; });
    await q.addWake();
    const added = performance.now();
    await withTimeout("a wake job", WAKE_TIMEOUT_MS, started);
    // NOTIFY can reach the worker before add()'s own reply reaches us: then the handler started "before" the add resolved
    latencies.push(startedAt - added);
  }
  return { samples, wakeP50Ms: percentile(latencies, 50), wakeP99Ms: percentile(latencies, 99), wakeMaxMs: round(Math.max(...latencies)) };
}

// ---- graphile-worker ----

/** graphile-worker's logging, silenced but kept: its errors are how a failed attempt explains itself. */
function quietGraphileLogger(errors: string[]): GraphileLogger {
  return new GraphileLogger(() => (level, message) => {
    if (level === "error" || level === "warning") errors.push(`${level}: ${message}`);
  });
}

async function startGraphile(connectionString: string, errors: string[]): Promise<QueueUnderTest> {
  const logger = quietGraphileLogger(errors);
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;
  try {
    utils = await makeWorkerUtils({ connectionString, logger });
    await utils.migrate();
    const q: QueueUnderTest = {
      onNoop: () => undefined,
      onWake: () => undefined,
      addMany: async (n) => { await utils!.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} }))); },
      addWake: async () => { await utils!.addJob("wake", {}); },
      stop: async () => { await runner?.stop(); await utils?.release(); },
    };
    runner = await run({
      connectionString, concurrency: CONCURRENCY, pollInterval: GRAPHILE_POLL_MS, noHandleSignals: true, logger,
      // crontab: none (graphile-worker otherwise looks for ./crontab and logs that it found none)
      crontab: "",
      taskList: { noop: async () => q.onNoop(), wake: async () => q.onWake() },
    });
    return q;
  } catch (error) {
    await Promise.resolve(runner?.stop()).catch(() => undefined);
    await Promise.resolve(utils?.release()).catch(() => undefined);
    throw error;
  }
}

// ---- pg-boss ----

async function startPgBoss(options: PgBoss.ConstructorOptions, errors: string[], batchSize = 1): Promise<QueueUnderTest> {
  // schedule off: idsync schedules its own full reconciles, and pg-boss's cron loop is noise here
  const boss = new PgBoss({ ...options, schedule: false });
  boss.on("error", (error: Error) => errors.push(error.message));
  try {
    await boss.start();
    await boss.createQueue("noop");
    await boss.createQueue("wake");
    const q: QueueUnderTest = {
      onNoop: () => undefined,
      onWake: () => undefined,
      addMany: async (n) => { await boss.insert(Array.from({ length: n }, () => ({ name: "noop", data: {} }))); },
      addWake: async () => { await boss.send("wake", {}); },
      stop: async () => { await boss.stop({ graceful: false, wait: true }); },
    };
    // pg-boss 10 has no concurrency setting: a worker is one work() call, fetching batchSize jobs per poll
    for (let i = 0; i < CONCURRENCY; i++) {
      await boss.work("noop", { pollingIntervalSeconds: PGBOSS_POLL_S, batchSize }, async (jobs) => { for (const _ of jobs) q.onNoop(); });
    }
    await boss.work("wake", { pollingIntervalSeconds: PGBOSS_POLL_S, batchSize: 1 }, async () => q.onWake());
    return q;
  } catch (error) {
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw error;
  }
}

// ---- the floor: LISTEN/NOTIFY with pg ----

async function notifyBaseline(url: string, samples: number): Promise<{ samples: number; p50Ms: number; p99Ms: number }> {
  const listener = new pg.Client({ connectionString: url });
  const notifier = new pg.Client({ connectionString: url });
  await listener.connect();
  await notifier.connect();
  try {
    await listener.query("listen queue_bench");
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(Math.random() * 20);
      const heard = new Promise<number>((resolve) => listener.once("notification", () => resolve(performance.now())));
      const sent = performance.now();
      await notifier.query("select pg_notify('queue_bench', '')");
      latencies.push((await withTimeout("a notification", 5000, heard)) - sent);
    }
    return { samples, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await listener.end();
    await notifier.end();
  }
}

// ---- a worker killed mid-job: each library's defaults, read from the installed sources ----

/** The first capture of `pattern` in the installed file, so the report states what this version does. */
function fromSource(file: string, pattern: RegExp): string | null {
  try {
    return pattern.exec(readFileSync(path.join(nodeModules, file), "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

function crashedWorkerDefaults() {
  // Measuring this with the defaults would take 15 min (pg-boss) to 4 h (graphile-worker); the
  // mechanisms are the ones below, and idsync shortens graphile-worker's with worker-liveness.ts.
  return {
    graphileWorker: {
      measured: false,
      lockedJobFreedAfter: fromSource("graphile-worker/dist/generated/sql.js", /job_expiry interval = interval '([^']+)'/),
      source: "graphile-worker/dist/generated/sql.js: get_job(… job_expiry interval = interval '4 hours'); not configurable in 0.17",
    },
    pgBoss: {
      measured: false,
      expireInDefault: fromSource("pg-boss/src/plans.js", /expire_in interval not null default interval '([^']+)'/),
      maintenanceIntervalSecondsDefault: Number(fromSource("pg-boss/src/attorney.js", /maintenanceIntervalSeconds\s*\n?\s*: (\d+)/)) || null,
      source: "pg-boss/src/plans.js (expire_in default) and attorney.js (maintenance interval): an active job is failed, then retried, by the next maintenance run after it expires",
    },
  };
}

// ---- one library on one database ----

interface Measured {
  ok: true;
  /** Wall time of the whole attempt, start and stop included (where this bench's runtime goes). */
  seconds: number;
  throughput: Awaited<ReturnType<typeof throughput>>;
  jobsPerSecond: number;
  wakeP50Ms: number;
  wakeP99Ms: number;
  wakeMaxMs: number;
  wakeSamples: number;
  errorsLogged: string[];
}
interface Failed { ok: false; seconds: number; error: { message: string; from?: string }; errorsLogged: string[]; throughput?: Measured["throughput"] }

async function measure(start: (errors: string[]) => Promise<QueueUnderTest>, opts: { jobs: number; wakeSamples: number; capMs?: number }): Promise<Measured | Failed> {
  const errors: string[] = [];
  const began = performance.now();
  const seconds = () => round((performance.now() - began) / 1000);
  let q: QueueUnderTest | undefined;
  let t: Measured["throughput"] | undefined;
  try {
    q = await withTimeout("starting the worker", ATTEMPT_TIMEOUT_MS, start(errors));
    t = await throughput(q, opts.jobs, opts.capMs ?? THROUGHPUT_CAP_MS);
    if (t.stalled) throw new Error(`stalled: ${t.jobs} of ${opts.jobs} jobs ran, then none for ${STALL_MS / 1000} s, with no error`);
    const w = opts.wakeSamples > 0 ? await wake(q, opts.wakeSamples) : undefined;
    return { ok: true, seconds: seconds(), throughput: t, jobsPerSecond: t.jobsPerSecond, wakeP50Ms: w?.wakeP50Ms ?? NaN, wakeP99Ms: w?.wakeP99Ms ?? NaN, wakeMaxMs: w?.wakeMaxMs ?? NaN, wakeSamples: w?.samples ?? 0, errorsLogged: [...new Set(errors)].slice(0, 5) };
  } catch (error) {
    // what was measured before the failure stays in the report
    return { ok: false, seconds: seconds(), error: describe(error), errorsLogged: [...new Set(errors)].slice(0, 5), ...(t ? { throughput: t } : {}) };
  } finally {
    await withTimeout("stopping the worker", 10_000, q?.stop() ?? Promise.resolve()).catch(() => undefined);
  }
}

/** A fresh in-memory PGlite behind pglite-socket, for libraries that only speak to a server. */
async function withPgliteServer<T>(maxConnections: number | undefined, work: (url: string, db: PGlite) => Promise<T>): Promise<T> {
  const db = new PGlite();
  await db.waitReady;
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, ...(maxConnections ? { maxConnections } : {}) });
  await server.start();
  try {
    return await work(`postgres://postgres@127.0.0.1:${port}/postgres`, db);
  } finally {
    await server.stop();
    await db.close();
  }
}

/** Whether a NOTIFY sent on one pglite-socket connection reaches another connection that LISTENs (it does on PostgreSQL). */
async function pgliteNotifyCrossesConnections(url: string): Promise<boolean> {
  const listener = new pg.Client({ connectionString: url });
  const notifier = new pg.Client({ connectionString: url });
  await listener.connect();
  await notifier.connect();
  try {
    await listener.query("listen queue_bench");
    const heard = new Promise<boolean>((resolve) => listener.once("notification", () => resolve(true)));
    await notifier.query("select pg_notify('queue_bench', '')");
    return await Promise.race([heard, sleep(2000).then(() => false)]);
  } finally {
    await listener.end().catch(() => undefined);
    await notifier.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const versions = { graphileWorker: version("graphile-worker"), pgBoss: version("pg-boss"), pglite: version("@electric-sql/pglite"), pgliteSocket: version("@electric-sql/pglite-socket") };
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rows: [server] } = await admin.query<{ server_version: string }>("show server_version");

  // ---- PostgreSQL ----
  await admin.query(`drop database if exists ${DB_NAME} with (force)`);
  await admin.query(`create database ${DB_NAME}`);
  let postgres;
  try {
    const full = { jobs: THROUGHPUT_JOBS, wakeSamples: WAKE_SAMPLES };
    const graphileWorker = await measure((e) => startGraphile(pgUrl, e), { ...full, capMs: FULL_RUN_CAP_MS });
    const pgBoss = await measure((e) => startPgBoss({ connectionString: pgUrl }, e), full);
    const pgBossBatched = await measure((e) => startPgBoss({ connectionString: pgUrl }, e, PGBOSS_BATCH), { jobs: THROUGHPUT_JOBS, wakeSamples: 0 });
    const notify = await notifyBaseline(pgUrl, WAKE_SAMPLES);
    postgres = {
      server: `PostgreSQL ${server?.server_version}`,
      graphileWorker: { version: versions.graphileWorker, pollIntervalMs: GRAPHILE_POLL_MS, wakesBy: "LISTEN/NOTIFY", ...graphileWorker },
      pgBoss: {
        version: versions.pgBoss, pollingIntervalSeconds: PGBOSS_POLL_S, batchSize: 1, wakesBy: "polling", ...pgBoss,
        batched: {
          batchSize: PGBOSS_BATCH,
          jobsPerSecond: pgBossBatched.ok ? pgBossBatched.jobsPerSecond : null,
          ...(pgBossBatched.ok ? { throughput: pgBossBatched.throughput } : { error: pgBossBatched.error }),
        },
      },
      notifyBaseline: notify,
      crashedWorker: crashedWorkerDefaults(),
    };
  } finally {
    await admin.query(`drop database if exists ${DB_NAME} with (force)`);
    await admin.end();
  }

  // ---- PGlite, in memory ----
  const small = { jobs: THROUGHPUT_JOBS, wakeSamples: EMBEDDED_WAKE_SAMPLES };
  const embedded = {
    pglite: versions.pglite,
    pgliteSocket: versions.pgliteSocket,
    // pglite-socket serves every connection from PGlite's one session, one query at a time
    notifyReachesOtherConnection: await withPgliteServer(8, (url) => pgliteNotifyCrossesConnections(url)),
    graphileWorker: [
      { how: "run({ connectionString }) to a pglite-socket server with its default maxConnections, 1",
        ...(await withPgliteServer(undefined, (url) => measure((e) => startGraphile(url, e), small))) },
      { how: "run({ connectionString }) to a pglite-socket server with maxConnections 20, room for its pool and LISTEN client",
        ...(await withPgliteServer(20, (url) => measure((e) => startGraphile(url, e), small))) },
    ],
    pgBoss: [
      { how: "new PgBoss({ connectionString }) to a pglite-socket server with maxConnections 20",
        ...(await withPgliteServer(20, (url) => measure((e) => startPgBoss({ connectionString: url }, e), small))) },
      { how: "in-process, db: { executeSql: (text, values) => pglite.query(text, values) }",
        ...(await (async () => {
          const db = new PGlite();
          try {
            return await measure((e) => startPgBoss({ db: { executeSql: (text, values) => db.query(text, values) } }, e), small);
          } finally { await db.close(); }
        })()) },
      { how: "in-process, db: { executeSql } running parameterless text with pglite.exec, since pg-boss sends its schema as one multi-statement text",
        ...(await (async () => {
          const db = new PGlite();
          const executeSql = async (text: string, values: unknown[]) => {
            if (values?.length) return db.query(text, values);
            const results = await db.exec(text);
            return { rows: results.at(-1)?.rows ?? [] };
          };
          try {
            return await measure((e) => startPgBoss({ db: { executeSql } }, e), small);
          } finally { await db.close(); }
        })()) },
    ],
  };

  const gw = postgres.graphileWorker;
  const boss = postgres.pgBoss;
  const wakeOf = (r: Measured | Failed) => (r.ok ? r.wakeP50Ms : Infinity);
  const fits = (ms: number) => ms < GROUP_CHANGE_BUDGET_MS;
  const embeddedWorking = [...embedded.graphileWorker, ...embedded.pgBoss].filter((a) => a.ok) as (Measured & { how: string })[];
  const embeddedBest = embeddedWorking.length ? Math.min(...embeddedWorking.map((a) => a.wakeP50Ms)) : Infinity;
  const why = [
    `On PostgreSQL graphile-worker ${gw.version} started a newly added job after ${wakeOf(gw)} ms (p50; p99 ${gw.ok ? gw.wakeP99Ms : "n/a"} ms), ` +
      `${fits(wakeOf(gw)) ? "inside" : "outside"} the ${GROUP_CHANGE_BUDGET_MS} ms group-change budget, because it wakes on LISTEN/NOTIFY ` +
      `(bare NOTIFY round trip: ${postgres.notifyBaseline.p50Ms} ms p50); pg-boss ${boss.version} polls, and even at its minimum interval ` +
      `(${PGBOSS_POLL_S} s) took ${wakeOf(boss)} ms (p50), ${fits(wakeOf(boss)) ? "inside" : "outside"} the budget.`,
    `Throughput, ${CONCURRENCY} workers, one job per handler call: graphile-worker ${gw.ok ? gw.jobsPerSecond : "n/a"} jobs/s, pg-boss ${boss.ok ? boss.jobsPerSecond : "n/a"} jobs/s ` +
      `(${boss.batched.jobsPerSecond ?? "n/a"} jobs/s fetching ${PGBOSS_BATCH} at a time, which does not shorten the wait for a single new job).`,
    `On PGlite: ${embeddedWorking.length} of ${embedded.graphileWorker.length + embedded.pgBoss.length} attempts kept running jobs.`,
    ...[...embedded.graphileWorker.map((a) => ({ lib: "graphile-worker", ...a })), ...embedded.pgBoss.map((a) => ({ lib: "pg-boss", ...a }))].map((a) => a.ok
      ? `${a.lib} (${a.how}): ran, waking in ${a.wakeP50Ms} ms (p50), ${fits(a.wakeP50Ms) ? "inside" : "outside"} the budget.`
      : `${a.lib} (${a.how}): ${a.error.message}.`),
    embedded.notifyReachesOtherConnection ? "" : "Through pglite-socket a NOTIFY never reaches another connection (all of them share PGlite's one session), so nothing there can wake a worker but polling.",
    `No library wakes within budget on PGlite${fits(embeddedBest) ? " (but one did here: revisit)" : ""}, so the embedded database keeps idsync's in-process queue, which needs no wake-up (the process that adds a job also runs it).`,
  ].filter(Boolean).join(" ");

  const result = {
    ranAt: new Date().toISOString(),
    seconds: round((performance.now() - started) / 1000),
    settings: { throughputJobs: THROUGHPUT_JOBS, concurrency: CONCURRENCY, wakeSamples: WAKE_SAMPLES, embeddedWakeSamples: EMBEDDED_WAKE_SAMPLES, throughputCapMs: THROUGHPUT_CAP_MS, groupChangeBudgetMs: GROUP_CHANGE_BUDGET_MS },
    postgres,
    embedded,
    // the library whose wake fits the budget on PostgreSQL; on PGlite neither does (see why)
    choice: wakeOf(gw) <= wakeOf(boss) ? "graphile-worker" : "pg-boss",
    why,
  };
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  mkdirSync(path.join(here, "results"), { recursive: true });
  writeFileSync(path.join(here, "results", "queue-choice.json"), json + "\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
