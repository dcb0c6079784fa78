// `npm run bench`: how fast idsync's SCIM endpoint is, measured against a bare baseline in the same
// run on the same PostgreSQL, so the figures say what idsync's own layers (scimmy validation, filter
// compilation, rendering, logging, knex) cost on top of the SQL they cannot avoid.
//   1. (re)creates the throwaway database idsync_bench
//   2. starts idsync (`node bin/idsync.js serve --no-scheduler` unless BENCH_SERVE_ARGS says otherwise),
//      creates an account and a SCIM connection
//   3. preloads 60,000 users and two groups (5,000 and 50,000 members) through SCIM
//   4. starts the bare baseline (bench/bare-baseline.ts): express + pg issuing idsync's SQL
//   5. runs each workload against idsync, then against the baseline; while the baseline is measured,
//      idsync is frozen (SIGSTOP, outside any transaction), so its background reconciles neither take
//      CPU from the baseline nor hold the account row lock its writes would wait on
//   6. prints the table and the targets, writes bench/results/latest.json
// Settings: BENCH_DATABASE_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_DURATION (seconds per run, default 10), BENCH_LOG_LEVEL (idsync's LOG_LEVEL, default info),
// BENCH_USERS (preload size, default 60,000; smaller for trial runs), BENCH_SERVE_ARGS (extra
// arguments for `idsync serve`, e.g. "--no-scheduler" for an HTTP-only replica),
// BENCH_WORKLOADS (e.g. "get,patch-small"; default all), BENCH_CPU_PROF=1 (profile idsync during each
// measured run into bench/results/cpu-prof/ and print where its CPU went; slows idsync down),
// BENCH_NO_ANALYZE=1 (no VACUUM ANALYZE after the preload nor between runs: the SCIM phases run on
// tables as a bulk push leaves them, without statistics, as a new account meets them before autovacuum
// or idsync's own ANALYZE gets there; on the embedded database it would be for ever without the latter),
// BENCH_PAGING=0 (skip the paging workload: one client walks every user by startIndex, count=100, as
// Okta's and Entra's imports do; page 1 against page 1,000 and the whole walk, idsync only: the
// baseline has no paging). BENCH_PAGING_USERS (default 100,000): the walk covers this many users; those
// beyond the preload are inserted by SQL just before it (SCIM would take minutes), as never-analyzed
// rows with BENCH_NO_ANALYZE=1. BENCH_WORKLOADS=paging runs the walk alone (with BENCH_USERS=12, a
// preload of a few seconds).
// Exits 0 whether or not targets are met; 1 when the setup or a run fails. Always stops its children
// and drops the database.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { describeDeath, freePort, killAllChildrenNow, startChild, stopAllChildren, waitHealthy, type Child } from "./processes.ts";
import { closeAgent, preload, request, userName, LARGE_GROUP_SIZE, POOL_START, SMALL_GROUP_SIZE, USER_COUNT } from "./preload.ts";
import { CONNECTIONS, patchedGroup, poolCycles, runWorkload, walkUsers, WARMUP_SECONDS, WORKLOADS, type PagingStats, type RunStats, type WorkloadSetup } from "./workloads.ts";
import { evaluateTargets, machineInfo, renderReport, writeResults, type WorkloadResult } from "./report.ts";
import { staleCopies } from "./baseline-sql.ts";
import { benchSql, benchUrl, createBenchDatabase, DB_NAME, dropBenchDatabase, freeze, IDSYNC_APPLICATION, thaw } from "./bench-db.ts";
import { renderProfile, summariseProfile, type ProfileSummary } from "./profile-summary.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const duration = Number(process.env.BENCH_DURATION || 10);
const logLevel = process.env.BENCH_LOG_LEVEL || "info";
const selected = process.env.BENCH_WORKLOADS ? process.env.BENCH_WORKLOADS.split(",").map((w) => w.trim()) : WORKLOADS.map((w) => w.name);
const workloads = WORKLOADS.filter((w) => selected.includes(w.name));
const noAnalyze = process.env.BENCH_NO_ANALYZE === "1";
const paging = process.env.BENCH_PAGING !== "0";
const pagingUsers = Number(process.env.BENCH_PAGING_USERS || 100_000);
const profileDir = process.env.BENCH_CPU_PROF === "1" ? path.join(ROOT, "bench", "results", "cpu-prof") : undefined;
// a profiled run's figures are not representative: they never replace latest.json
const RESULTS_FILE = path.join(ROOT, "bench", "results", profileDir ? "profiled.json" : process.env.BENCH_NO_ANALYZE === "1" ? "no-analyze.json" : "latest.json");

// The request path is what this bench compares; reconciles run in the scheduler and are measured by
// their own workloads, so by default idsync serves HTTP only, as an HTTP replica would.
const serveArgs = (process.env.BENCH_SERVE_ARGS ?? "--no-scheduler").split(/\s+/).filter(Boolean);

const log = (line: string) => process.stdout.write(`${line}\n`);

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    thaw(); // a stopped process would not act on SIGTERM
    closeAgent();
    await stopAllChildren();
    await dropBenchDatabase().catch((error: Error) => log(`could not drop ${DB_NAME}: ${error.message}`));
  })());
}
process.once("SIGINT", () => {
  log("\ninterrupted; stopping the servers and dropping the database");
  void cleanup().finally(() => process.exit(130));
});
process.once("exit", () => {
  thaw();
  killAllChildrenNow();
});

/** Dies with the child's last output when it has exited under us. */
function assertAlive(child: Child): void {
  if (child.exited()) throw new Error(describeDeath(child));
}

/** Stops the profiler in idsync (SIGUSR2 again) and waits for its profile file. */
async function collectProfile(idsync: Child, taken: number, name: string): Promise<string> {
  idsync.process.kill("SIGUSR2");
  const written = path.join(profileDir!, `idsync-${taken}.cpuprofile`);
  for (let waited = 0; !existsSync(written); waited += 100) {
    if (waited > 30_000) throw new Error(`idsync wrote no CPU profile ${written}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const target = path.join(profileDir!, `idsync-${name}.cpuprofile`);
  renameSync(written, target);
  return target;
}

async function main(): Promise<void> {
  if (workloads.length === 0 && !(paging && selected.includes("paging"))) throw new Error(`BENCH_WORKLOADS names none of ${WORKLOADS.map((w) => w.name).join(", ")}`);
  log(`idsync SCIM benchmark: ${CONNECTIONS} connections, ${duration} s per run after a ${WARMUP_SECONDS} s warm-up, idsync LOG_LEVEL=${logLevel}`);
  await createBenchDatabase();
  const staleAtStart = staleCopies(ROOT);
  if (staleAtStart.length > 0) log(`WARNING: the baseline's SQL no longer matches src for ${staleAtStart.join(", ")}; update bench/baseline-sql.ts, the ratios would compare different work`);
  const [{ version }] = await benchSql<{ version: string }>("select version()") as [{ version: string }];
  log(`database ${benchUrl} (${version.split(" on ")[0]})`);

  // idsync
  const idsyncPort = await freePort();
  const adminToken = `bench-${randomBytes(24).toString("hex")}`;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profilerArgs = profileDir ? ["--import", "./bench/cpu-profiler.mjs"] : [];
  const idsync = startChild("idsync", process.execPath, [...profilerArgs, "bin/idsync.js", "serve", ...serveArgs], {
    ...(profileDir ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
    DATABASE_URL: `${benchUrl}?application_name=${IDSYNC_APPLICATION}`, PORT: String(idsyncPort), HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: adminToken,
    IDSYNC_SCIM_RATE_LIMIT: "1000000", IDSYNC_SCIM_RATE_BURST: "1000000", LOG_LEVEL: logLevel,
  }, ROOT);
  const idsyncUrl = `http://127.0.0.1:${idsyncPort}`;
  await waitHealthy(idsync, `${idsyncUrl}/healthz`);
  const admin = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  await request("POST", `${idsyncUrl}/admin/v1/accounts`, admin, JSON.stringify({ slug: "bench", domains: ["bench.example.com"] }), 201);
  const connection = await request("POST", `${idsyncUrl}/admin/v1/accounts/bench/connections`, admin, JSON.stringify({ kind: "scim" }), 201);
  const scimToken = (JSON.parse(connection.body) as { token: string }).token;
  log(`idsync (pid ${idsync.process.pid}, ${["serve", ...serveArgs].join(" ")}) at ${idsyncUrl}; account "bench" with a SCIM connection`);

  // preload
  log(`preloading through SCIM: ${USER_COUNT} users (users ${POOL_START}+ are the PATCH pool; a 50,000-member group needs 50,000 users), groups of ${SMALL_GROUP_SIZE} and ${LARGE_GROUP_SIZE}`);
  const loaded = await preload(`${idsyncUrl}/scim/v2`, scimToken, log);
  assertAlive(idsync);
  const [counts] = await benchSql<{ users: number; small: number; large: number }>(
    `select (select count(*)::int from idp_users) as users,
            (select count(*)::int from idp_group_members where group_id = $1) as small,
            (select count(*)::int from idp_group_members where group_id = $2) as large`, [loaded.smallGroupId, loaded.largeGroupId]);
  log(`preloaded in ${loaded.seconds.toFixed(1)} s: ${counts!.users} users, group "small" ${counts!.small} members, group "large" ${counts!.large} members`);
  if (noAnalyze) {
    const [stats] = await benchSql<{ analyzed: number }>(
      "select count(*)::int as analyzed from pg_stat_user_tables where relname in ('idp_users', 'idp_groups', 'idp_group_members') and coalesce(last_analyze, last_autoanalyze) is not null");
    log(`BENCH_NO_ANALYZE=1: no vacuum analyze; ${stats!.analyzed} of the 3 snapshot tables analyzed so far (by autovacuum or idsync)`);
  } else {
    await benchSql("vacuum analyze");
    log("vacuum analyze done (same state for both servers)");
  }

  // baseline: its SQL is idsync's only as long as src has not moved on (checked again: src may have changed meanwhile)
  const stale = staleCopies(ROOT);
  if (stale.length > 0) log(`WARNING: the baseline's SQL no longer matches src for ${stale.join(", ")}; update bench/baseline-sql.ts, the ratios compare different work`);
  else log("baseline SQL checked: every copied statement and call is still in src");
  const baselinePort = await freePort();
  const baseline = startChild("baseline", process.execPath, ["--import", "tsx", "bench/bare-baseline.ts"], {
    DATABASE_URL: benchUrl, PORT: String(baselinePort),
  }, ROOT);
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  await waitHealthy(baseline, `${baselineUrl}/healthz`);
  log(`baseline (pid ${baseline.process.pid}) at ${baselineUrl}`);

  // both must find the same user for the same request, or the comparison means nothing
  const scim = { Authorization: `Bearer ${scimToken}`, Accept: "application/scim+json" };
  const probe = `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(Math.min(1234, USER_COUNT - 1))}"`)}`;
  for (const url of [idsyncUrl, baselineUrl]) {
    const found = JSON.parse((await request("GET", `${url}${probe}`, scim, undefined, 200)).body) as { totalResults: number };
    if (found.totalResults !== 1) throw new Error(`${url}${probe} found ${found.totalResults} users, expected 1`);
  }

  const setup: WorkloadSetup = { scimToken, userIds: loaded.userIds, smallGroupId: loaded.smallGroupId, largeGroupId: loaded.largeGroupId };
  const results: WorkloadResult[] = [];
  const brief = (s: RunStats) => `${s.requestsPerSecond.toFixed(0)} req/s, p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms, ${s.failures.non2xx + s.failures.errors} failures`;
  const profiles: Record<string, { file: string; summary: ProfileSummary }> = {};
  // every measured run starts from the same table state: without it, each PATCH run inherits the
  // dead row versions of the runs before it (every PATCH bumps its group's row), and order decides
  // (not with BENCH_NO_ANALYZE: that run measures the tables as the preload left them)
  const settle = () => (noAnalyze ? Promise.resolve([]) : benchSql("vacuum analyze idp_groups, idp_group_members, idp_users, reconcile_requests"));
  // …and every PATCH run starts with no pool user in its group: the pool is shared by both sides and
  // runs out within a run, so otherwise the first side measured inserts members and the second only
  // re-adds them (a no-op), which is cheaper
  const poolIds = loaded.userIds.slice(POOL_START);
  const resetPool = async (workload: string) => {
    const groupId = patchedGroup(workload, loaded);
    if (groupId) await benchSql("delete from idp_group_members where group_id = $1 and member_id = any($2::uuid[])", [groupId, poolIds]);
  };
  for (const workload of workloads) {
    await resetPool(workload.name);
    await settle();
    const idsyncStats = await runWorkload(idsyncUrl, workload.name, "idsync", setup, duration,
      profileDir ? () => idsync.process.kill("SIGUSR2") : undefined);
    assertAlive(idsync);
    if (profileDir) {
      const file = await collectProfile(idsync, Object.keys(profiles).length + 1, workload.name);
      profiles[workload.name] = { file: path.relative(ROOT, file), summary: summariseProfile(file) };
    }
    log(`  ${workload.label.padEnd(30)} idsync:   ${brief(idsyncStats)}`);
    const isolated = await freeze(idsync);
    if (!isolated) log("  (idsync could not be frozen outside a transaction; it keeps running during this baseline run)");
    await resetPool(workload.name);
    await settle();
    const baselineStats = await runWorkload(baselineUrl, workload.name, "baseline", setup, duration).finally(thaw);
    assertAlive(baseline);
    log(`  ${workload.label.padEnd(30)} baseline: ${brief(baselineStats)}`);
    if (!isolated) baselineStats.idsyncRunning = true;
    results.push({ ...workload, idsync: idsyncStats, baseline: baselineStats, ratio: idsyncStats.requestsPerSecond / baselineStats.requestsPerSecond });
  }

  let pagingStats: PagingStats | undefined;
  if (paging) {
    const [{ users: present }] = await benchSql<{ users: number }>("select count(*)::int as users from idp_users where deleted_at is null") as [{ users: number }];
    if (pagingUsers > present) {
      await benchSql(
        `insert into idp_users (id, connection_id, account_id, source_id, user_name, resource)
         select s.id, c.id, c.account_id, s.id::text, 'paging-' || n || '@bench.example.com', jsonb_build_object('userName', 'paging-' || n || '@bench.example.com', 'active', true)
         from directory_connections c, lateral (select gen_random_uuid() as id, n from generate_series(1, $1::int) n) s where c.kind = 'scim'`, [pagingUsers - present]);
      log(`  paging: ${pagingUsers - present} users inserted by SQL for the walk (${pagingUsers} in all)`);
    }
    pagingStats = await walkUsers(idsyncUrl, scimToken);
    assertAlive(idsync);
    log(`  ${"paging: walk by startIndex".padEnd(30)} idsync:   ${pagingStats.users} users in ${pagingStats.pages} pages of ${pagingStats.pageSize}, ${pagingStats.totalSeconds} s;`
      + ` page 1 ${pagingStats.firstPageMs} ms, page ${pagingStats.pageMs.page} ${pagingStats.pageMs.ms} ms, slowest ${pagingStats.slowestPageMs} ms;`
      + ` mean of first/last 10 % ${pagingStats.firstTenthMeanMs}/${pagingStats.lastTenthMeanMs} ms${pagingStats.complete ? "" : "; NOT every user once"}`);
  }

  const targets = evaluateTargets(results);
  log("");
  log(renderReport(results, targets));
  log("");
  log(`${targets.filter((t) => t.pass).length} of ${targets.length} targets met`);
  if (profileDir) {
    log("note: idsync ran under the CPU profiler, which slows it down; use a run without BENCH_CPU_PROF for figures");
    for (const [name, { summary }] of Object.entries(profiles)) log(`\n${renderProfile(name, summary)}`);
  }
  const cycles = poolCycles();
  if (Object.values(cycles).some((c) => c > 0)) log(`note: the PATCH pool of ${USER_COUNT - POOL_START} users was cycled ${JSON.stringify(cycles)} times; later adds were no-op re-adds`);

  writeResults(RESULTS_FILE, {
    machine: machineInfo(),
    database: version,
    settings: {
      connections: CONNECTIONS, durationSeconds: duration, warmupSeconds: WARMUP_SECONDS, idsyncLogLevel: logLevel, serveArgs,
      cpuProfiled: Boolean(profileDir), idsyncFrozenDuringBaselineRuns: true, noAnalyze,
    },
    preload: { seconds: loaded.seconds, users: counts!.users, smallGroupMembers: counts!.small, largeGroupMembers: counts!.large, patchPoolUsers: USER_COUNT - POOL_START },
    patchPoolCycles: cycles,
    baselineSqlStale: stale,
    results,
    ...(pagingStats ? { paging: pagingStats } : {}),
    targets,
    ...(profileDir ? { profiles } : {}),
  });
  log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
