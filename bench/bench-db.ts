// The bench's own use of PostgreSQL (not what it measures): the throwaway database idsync_bench that
// both servers share, a lock so two bench runs never drop each other's database or share the CPUs,
// and freezing idsync while the baseline is measured. With its scheduler on (BENCH_SERVE_ARGS=""),
// idsync runs reconciles in the background, each holding the account row lock that every SCIM
// write's reconcile request must share; left running, they would take CPU from the baseline and hold
// up its writes. So idsync is stopped (SIGSTOP) while none of its connections is inside a transaction
// (harmless, and the same, without the scheduler: nothing of idsync's runs while the baseline does).
import pg from "pg";
import type { Child } from "./processes.ts";

// BENCH_DB_NAME: another database (and lock) of its own, for two checkouts benchmarking on one server
export const DB_NAME = process.env.BENCH_DB_NAME || "idsync_bench";
/** idsync's connections carry this application_name, so the bench can see whether it is mid-transaction. */
export const IDSYNC_APPLICATION = "idsync-bench";
const BENCH_LOCK = 0x1d5ba9c + (DB_NAME === "idsync_bench" ? 0 : [...DB_NAME].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) % 0xfffff, 1));

export const adminUrl = process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
/** The URL of database `name` on the bench's PostgreSQL. */
export function databaseUrl(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
export const benchUrl = databaseUrl(DB_NAME);

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function benchSql<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  return withClient(benchUrl, async (client) => (await client.query<Row>(text, values)).rows);
}

let lockClient: pg.Client | undefined;
let lockedName = DB_NAME;

/**
 * Takes the bench lock on a connection of its own and returns that connection (closing it releases the lock).
 * With `waitMs`, waits that long for another bench to finish rather than failing at once.
 */
async function takeBenchLock(options: { waitMs?: number; onWait?: () => void }): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let waited = false; ; waited = true) {
    const { rows: [row] } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1) as locked", [BENCH_LOCK]);
    if (row?.locked) return client;
    if (Date.now() >= deadline) {
      await client.end();
      throw new Error("another `npm run bench` is running against this PostgreSQL; wait for it to finish");
    }
    if (!waited) options.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/**
 * Takes the bench lock (a session advisory lock, held until dropBenchDatabase) and recreates the
 * database (idsync_bench unless another bench names its own): one bench at a time on one PostgreSQL.
 */
export async function createBenchDatabase(name = DB_NAME, options: { waitMs?: number; onWait?: () => void } = {}): Promise<void> {
  const client = await takeBenchLock(options);
  lockClient = client;
  lockedName = name;
  await client.query(`drop database if exists ${name} with (force)`);
  await client.query(`create database ${name}`);
}

/**
 * The lock alone, for a runner of benches (bench/curves.ts): held around a child bench that does not take it
 * itself (the pull bench), or released at once before one that does, so that the child does not fail on a
 * bench someone else is running but waits for it here.
 */
export async function holdBenchLock(options: { waitMs?: number; onWait?: () => void } = {}): Promise<() => Promise<void>> {
  const client = await takeBenchLock(options);
  return () => client.end().catch(() => undefined);
}

/** Drops the database and releases the lock; does nothing when this run never took the lock. */
export async function dropBenchDatabase(): Promise<void> {
  if (!lockClient) return;
  try {
    // BENCH_KEEP_DB=1 leaves it for a look afterwards (the next run drops it)
    if (process.env.BENCH_KEEP_DB !== "1") await lockClient.query(`drop database if exists ${lockedName} with (force)`);
  } finally {
    await lockClient.end().catch(() => undefined);
    lockClient = undefined;
  }
}

let frozen: Child | undefined;

/**
 * Freezes idsync with SIGSTOP at a moment none of its connections is inside a transaction (a frozen
 * reconcile would keep the account row locked, and the baseline's writes would wait on it). False
 * when no such moment came within ~30 s: then idsync keeps running.
 */
export async function freeze(idsync: Child): Promise<boolean> {
  for (let attempt = 0; attempt < 150; attempt++) {
    idsync.process.kill("SIGSTOP");
    frozen = idsync;
    const [busy] = await benchSql<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where application_name = $1 and state <> 'idle'", [IDSYNC_APPLICATION]);
    if (busy!.n === 0) return true;
    thaw();
    await new Promise((resolve) => setTimeout(resolve, 50 + attempt * 2));
  }
  return false;
}

export function thaw(): void {
  frozen?.process.kill("SIGCONT");
  frozen = undefined;
}
