// Planner statistics for the tables idsync grows in bulk: the snapshot tables, and the membership
// tables a first apply fills (100,000 users, identities and memberships at once). The embedded
// database (PGlite) has no autovacuum, so without this its tables are never analyzed: every lookup is
// planned on guesses for ever, and the guesses grow worse with the directory. PostgreSQL's autovacuum
// usually gets there first (then this finds nothing to do), but not right after a bulk write, and not
// where autovacuum is off. Measured (bench/reconcile-bench.ts, PostgreSQL with autovacuum off):
// planned on the statistics of the empty tables the first apply filled, a one-person departure
// reconcile in a 100,000-user account took 230 ms (p50), its scope query hash-joining every user;
// analyzed, 14 ms.
//
// When: autovacuum's own rule (a table changed by more than 50 rows + 10 % of its rows since its last
// ANALYZE), read from pg_stat_user_tables, checked every 30 s by a timer of its own. A check is one
// catalog query; an ANALYZE samples at most 30,000 rows (default_statistics_target 100), so a few
// hundred milliseconds at worst, and only after bulk changes: a SCIM onboarding push, a pull's
// snapshot write, a first apply. Off the request path: no request waits for it on PostgreSQL (ANALYZE
// takes no lock that reads or writes wait on); PGlite runs one statement at a time, so requests
// arriving during an ANALYZE wait for it, which is the price of plans that stay right as the directory grows.
// Replicas: each checks; an advisory lock makes one of them analyze a table at a time.
// (A periodic task as a plain timer started by `idsync serve`: it belongs on the job queue's schedules.)
import type { Knex } from "knex";
import { runSql } from "./run-sql.ts";
import type { Logger } from "../log/logger.ts";

/** The tables SCIM, pulls and the reconciler grow in bulk, and whose lookups must be planned on real numbers. */
export const ANALYZED_TABLES = [
  "idp_users", "idp_groups", "idp_group_members",
  "users", "user_identities", "memberships", "domain_grants", "api_keys", "sessions", "invitations",
] as const;
/** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults. */
const THRESHOLD = 50;
const SCALE_FACTOR = 0.1;
export const CHECK_INTERVAL_MS = 30_000;
/** Keeps replicas from analyzing one table at once (a hash of the table's name is the second key). */
const LOCK_CLASS = 0x1d5a;

/** autovacuum's rule: whether `changed` rows since the last ANALYZE of a table of `rows` rows call for another (never analyzed: rows is 0). */
export function needsAnalyze(changed: number, rows: number): boolean {
  return changed > THRESHOLD + SCALE_FACTOR * Math.max(0, rows);
}

export type AnalyzedTable = (typeof ANALYZED_TABLES)[number];
/** Rows a writer knows it changed, by table. */
export type WrittenRows = Partial<Record<AnalyzedTable, number>>;

/**
 * Analyzes the tables that changed enough since their last ANALYZE; returns the tables it analyzed.
 * `written`: rows a committed write of this process changed, by table. pg_stat_user_tables learns of a
 * session's writes only when that session next reports (PostgreSQL: after it has been idle for up to
 * 10 s), so a writer that analyzes right after its commit counts its own rows too.
 */
export async function analyzeChangedTables(db: Knex, written: WrittenRows = {}): Promise<string[]> {
  const { rows } = await runSql<{ wanted: AnalyzedTable; name: string; changed: string; rows: number }>(db,
    `select t as wanted, s.relid::regclass::text as name, s.n_mod_since_analyze as changed, greatest(c.reltuples, 0)::float8 as rows
     from unnest(?::text[]) as t join pg_stat_user_tables s on s.relid = to_regclass(t) join pg_class c on c.oid = s.relid`, [[...ANALYZED_TABLES]]);
  const analyzed: string[] = [];
  for (const table of rows) {
    if (!needsAnalyze(Math.max(Number(table.changed), written[table.wanted] ?? 0), table.rows)) continue;
    const done = await db.transaction(async (trx) => {
      const { rows: [lock] } = await runSql<{ locked: boolean }>(trx, "select pg_try_advisory_xact_lock(?, hashtext(?)) as locked", [LOCK_CLASS, table.name]);
      if (!lock?.locked) return false;
      // the name is the catalog's own (regclass output, quoted where needed), never input
      await runSql(trx, `analyze ${table.name}`);
      return true;
    });
    if (done) analyzed.push(table.name);
  }
  return analyzed;
}

/** Rows a write must have changed in all for its writer to bring the statistics up to date before it goes on. */
export const BULK_WRITE_ROWS = 1_000;

/**
 * After a bulk write has committed (a first apply, a pull's snapshot): analyzes what it changed enough,
 * now rather than at the next check, up to 30 s later. What runs next plans on these tables at once: the
 * reconcile after a pull, a departure after an onboarding apply, the next full reconcile. Measured on the
 * reconcile bench's 100,000-user account (PostgreSQL, autovacuum off), 20 one-person departure reconciles
 * right after the first apply: p50 381 ms (max 510) planned on the statistics of the tables the apply had
 * filled from empty, 25 ms (max 40) with this; the ANALYZE of its four tables took 0.3 s of a 20 s apply.
 * Never fails the write it follows: a failure leaves the tables to the periodic check.
 */
export async function analyzeAfterBulkWrite(db: Knex, written: WrittenRows): Promise<string[]> {
  const total = Object.values(written).reduce((sum, n) => sum + (n ?? 0), 0);
  if (total < BULK_WRITE_ROWS) return [];
  return analyzeChangedTables(db, written).catch(() => []);
}

/** Checks every CHECK_INTERVAL_MS (the first check right away) until stopped; a failed check is logged and retried at the next. */
export function startTableStatistics(db: Knex, log: Logger, intervalMs = CHECK_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const check = () => {
    if (running || stopped) return;
    running = analyzeChangedTables(db)
      .then((tables) => { if (tables.length > 0) log.info({ tables }, "analyzed tables that changed in bulk (planner statistics)"); })
      .catch((error) => { if (!stopped) log.warn({ err: error }, "checking planner statistics failed; retried at the next check"); })
      .finally(() => { running = undefined; });
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  check();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
