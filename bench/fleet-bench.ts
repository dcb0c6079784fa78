// `npm run bench:fleet`: idsync as a fleet — three `idsync serve` replicas on one PostgreSQL.
//   1. (re)creates the database idsync_fleet (under the bench lock: one bench at a time)
//   2. seeds it (fleet-seed.ts) through a seeding server (`serve --no-scheduler`): 2,000 small
//      accounts pushed through SCIM, one of 100,000 users written into the snapshot, all reconciled once
//   3. starts r1, r2, r3 with a full reconcile every 2 minutes (IDSYNC_FULL_RECONCILE_SCHEDULE) and a low
//      SCIM rate limit (20/s, burst 40), and measures 3 slots from the next cron boundary on, while
//      SCIM traffic runs over all three (fleet-workload.ts); in the middle of slot 2 (once r2 has done
//      about half its share of that slot, or half the slot has passed) r2 is SIGKILLed and restarted
//   4. waits for the last slot's stragglers, then measures the fleet-wide rate limit (fleet-rate-limit.ts)
//   5. quiesces and counts lost changes (fleet-verify.ts); judges the slots from the replicas'
//      "full reconcile done" log lines (fleet-slots.ts)
//   6. prints one JSON object on stdout (progress goes to stderr) and writes bench/results/fleet.json
// FLEET_SHORT=1 (CI): 100 accounts plus one of 5,000 users, 1-minute slots, 2 of them, 20 departures,
// a 3 s rate window; it exits 1 when a correctness target fails (duplicates, misses, lost changes,
// a departure not revoked before its answer), never for a timing one. BENCH_DATABASE_URL as in run.ts.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import pg from "pg";
import { postgresKnex } from "../src/db/database.ts";
import { killAllChildrenNow, startChild, stopAllChildren, waitHealthy, freePort, type Child } from "./processes.ts";
import { closeAgent } from "./preload.ts";
import { machineInfo, writeResults } from "./report.ts";
import { createBenchDatabase, databaseUrl, dropBenchDatabase } from "./bench-db.ts";
import { seedFleet } from "./fleet-seed.ts";
import { DoneLines, killAndRestart, startReplicas, type Replica, type ReplicaSettings } from "./fleet-replicas.ts";
import { FleetWorkload } from "./fleet-workload.ts";
import { measureFleetRateLimit } from "./fleet-rate-limit.ts";
import { countLostChanges } from "./fleet-verify.ts";
import { judgeSlots } from "./fleet-slots.ts";
import { CORRECTNESS, percentile, TARGETS, targetsMet } from "./fleet-report.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS_FILE = path.join(ROOT, "bench", "results", "fleet.json");
const DB_NAME = "idsync_fleet";
const SHORT = process.env.FLEET_SHORT === "1";
const MODE = SHORT
  ? { accounts: 100, bigUsers: 5_000, slotMinutes: 1, slots: 2, departures: 20, rateWindowSeconds: 3, profilesPerSecond: 8 }
  : { accounts: 2_000, bigUsers: 100_000, slotMinutes: 2, slots: 3, departures: 200, rateWindowSeconds: 10, profilesPerSecond: 10 };
const SCHEDULE = MODE.slotMinutes === 1 ? "* * * * *" : `*/${MODE.slotMinutes} * * * *`;
const RATE_LIMIT = { ratePerSecond: 20, burst: 40 };
const REPLICAS = ["r1", "r2", "r3"];
/** The replica killed mid-slot, and the slot (0-based) it is killed in. */
const VICTIM = 1;
const KILL_SLOT = 1;
/** A group change not applied within 30 s counts as 30 s (it pushes the p99 past any target). */
const NOT_APPLIED_MS = 30_000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

let cleaning: Promise<void> | undefined;
const closers: Array<() => Promise<unknown>> = [];
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    closeAgent();
    await stopAllChildren();
    for (const close of closers) await close().catch(() => undefined);
    await dropBenchDatabase().catch((error: Error) => log(`could not drop ${DB_NAME}: ${error.message}`));
  })());
}
process.once("SIGINT", () => {
  log("\ninterrupted; stopping the replicas and dropping the database");
  void cleanup().finally(() => process.exit(130));
});
process.once("exit", () => killAllChildrenNow());

async function seed(url: string, adminToken: string) {
  const port = await freePort();
  const seeder: Child = startChild("seeder", process.execPath, ["bin/idsync.js", "serve", "--no-scheduler"], {
    DATABASE_URL: url, PORT: String(port), HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: adminToken, IDSYNC_DEMO: "false", LOG_LEVEL: "warn",
    IDSYNC_SCIM_RATE_LIMIT: "1000000", IDSYNC_SCIM_RATE_BURST: "1000000", NODE_ENV: "",
  }, ROOT);
  await waitHealthy(seeder, `http://127.0.0.1:${port}/healthz`);
  const knex = postgresKnex(url);
  try {
    return await seedFleet(knex, `http://127.0.0.1:${port}/scim/v2`, MODE, log);
  } finally {
    await knex.destroy();
    await seeder.stop();
  }
}

/** Kills the victim in the middle of its slot: once it has done half an equal share of it, or half the slot has passed. */
async function killMidSlot(settings: ReplicaSettings, victim: Replica, lines: DoneLines, slotStart: number, slotMs: number, accounts: number) {
  const slot = iso(slotStart);
  const halfShare = Math.max(1, Math.ceil(accounts / REPLICAS.length / 2));
  await sleep(Math.max(0, slotStart - Date.now()));
  let done = 0;
  while (Date.now() < slotStart + slotMs / 2) {
    lines.collect();
    done = lines.lines.filter((l) => l.slot === slot && l.replica === victim.name).length;
    if (done >= halfShare) break;
    await sleep(250);
  }
  const { killedAt, healthyAt } = await killAndRestart(settings, victim);
  log(`  ${victim.name} SIGKILLed at ${iso(killedAt)} (${((killedAt - slotStart) / 1000).toFixed(1)} s into slot ${slot}, after ${done} of its runs there); healthy again ${((healthyAt - killedAt) / 1000).toFixed(1)} s later`);
  return { replica: victim.name, slot, killedAt: iso(killedAt), secondsIntoSlot: Number(((killedAt - slotStart) / 1000).toFixed(1)), runsInSlotBeforeKill: done, restartSeconds: Number(((healthyAt - killedAt) / 1000).toFixed(1)) };
}

/** After the last slot: until every measured (slot, account) has a run, or no run came for 15 s, at most one slot more. */
async function waitForStragglers(lines: DoneLines, slots: Set<string>, accountIds: readonly string[], slotMs: number): Promise<void> {
  const deadline = Date.now() + slotMs;
  let lastNew = Date.now();
  const want = slots.size * accountIds.length;
  while (Date.now() < deadline && Date.now() - lastNew < 15_000) {
    if (lines.collect().some((l) => slots.has(l.slot))) lastNew = Date.now();
    const covered = new Set(lines.lines.filter((l) => slots.has(l.slot)).map((l) => `${l.slot} ${l.accountId}`)).size;
    if (covered >= want) return;
    await sleep(500);
  }
}

async function main(): Promise<number> {
  log(`idsync fleet benchmark${SHORT ? " (short)" : ""}: ${REPLICAS.length} replicas, ${MODE.accounts} small accounts + one of ${MODE.bigUsers} users, ${MODE.slots} slots of ${MODE.slotMinutes} min (${SCHEDULE}), ${MODE.departures} departures`);
  // a shared machine: wait for another bench rather than measure beside it
  await createBenchDatabase(DB_NAME, { waitMs: 15 * 60_000, onWait: () => log("waiting for another bench on this PostgreSQL to finish (at most 15 min)") });
  const url = databaseUrl(DB_NAME);
  const adminToken = `fleet-${randomBytes(24).toString("hex")}`;
  const seeded = await seed(url, adminToken);
  log(`seeded in ${seeded.seconds.toFixed(0)} s`);

  const db = new pg.Pool({ connectionString: url, max: 4 });
  closers.push(() => db.end());
  const settings: ReplicaSettings = { root: ROOT, databaseUrl: url, adminToken, fullReconcileSchedule: SCHEDULE, rateLimit: RATE_LIMIT };
  const replicas = await startReplicas(settings, REPLICAS);
  log(`replicas ${replicas.map((r) => `${r.name} ${r.url}`).join(", ")}`);
  const lines = new DoneLines(replicas);

  const slotMs = MODE.slotMinutes * 60_000;
  // the first boundary at least 5 s away, so every replica's cron is armed for it
  const firstSlot = Math.ceil((Date.now() + 5_000) / slotMs) * slotMs;
  const slotStarts = Array.from({ length: MODE.slots }, (_, k) => firstSlot + k * slotMs);
  const slots = new Set(slotStarts.map(iso));
  const endsAt = firstSlot + MODE.slots * slotMs;
  log(`measuring slots ${[...slots].join(", ")}; traffic from the first on`);
  await sleep(Math.max(0, firstSlot - Date.now()));

  const workload = new FleetWorkload(db, {
    replicaUrls: () => replicas.map((r) => r.url), accounts: seeded.small, departures: MODE.departures, profilesPerSecond: MODE.profilesPerSecond, endsAt,
  });
  const [record, kill] = await Promise.all([
    workload.run(),
    killMidSlot(settings, replicas[VICTIM]!, lines, slotStarts[KILL_SLOT]!, slotMs, seeded.accountIds.length),
  ]);
  log(`traffic done: ${record.requests} SCIM requests, ${record.failures} failed, ${record.retried} sent on after a network error`);
  await waitForStragglers(lines, slots, seeded.accountIds, slotMs);

  const rate = await measureFleetRateLimit(replicas.map((r) => r.url), seeded.small.at(-1)!.token, RATE_LIMIT.ratePerSecond, MODE.rateWindowSeconds);
  log(`rate limit: ${rate.acceptedPerSecond.toFixed(1)} accepted/s across the fleet for a limit of ${RATE_LIMIT.ratePerSecond}/s (${rate.limited} answered 429)`);
  const lost = await countLostChanges(db, record);
  log(`quiesced after ${lost.quiescedAfterSeconds.toFixed(0)} s; ${lost.total} lost changes`);
  lines.collect();

  const verdict = judgeSlots(lines.lines, [...slots], seeded.accountIds, REPLICAS);
  const answered = record.departures.filter((d) => d.status >= 200 && d.status < 300);
  const held = new Set<string>();
  if (lost.heldDeactivations > 0) {
    const { rows } = await db.query<{ user_id: string }>(`select distinct user_id from held_removals where decision is null`);
    for (const r of rows) held.add(r.user_id);
  }
  const judged = answered.filter((d) => !held.has(d.user.userId));
  const notRevoked = judged.filter((d) => !d.revokedAtResponse);
  const revokedBeforeResponse = record.departures.length === MODE.departures && answered.length === record.departures.length && notRevoked.length === 0;
  const appliedMs = record.groupChanges.map((c) => c.appliedMs ?? NOT_APPLIED_MS);
  const figures = {
    replicas: REPLICAS.length,
    accounts: seeded.accountIds.length,
    slots: MODE.slots,
    accountRunsPerSlot: verdict.accountRunsPerSlot,
    duplicateRuns: verdict.duplicateRuns,
    missedAccounts: verdict.missedAccounts,
    sharePerReplica: verdict.sharePerReplica,
    deactivateRequestP50Ms: percentile(answered.map((d) => d.ms), 50),
    deactivateRequestP99Ms: percentile(answered.map((d) => d.ms), 99),
    revokedBeforeResponse,
    heldDeactivations: lost.heldDeactivations,
    groupChangeAppliedP99Ms: percentile(appliedMs, 99),
    rateLimitAcrossFleetRatio: rate.ratio,
    lostChanges: lost.total,
  };
  const met = targetsMet({ ...figures, shareFractions: verdict.shareFractions });
  const result = {
    ...figures,
    targets: TARGETS,
    met,
    details: {
      mode: SHORT ? "short" : "full",
      schedule: SCHEDULE,
      slotStarts: [...slots],
      perSlot: verdict.perSlot,
      shareFractions: verdict.shareFractions,
      unknownReplicaRuns: verdict.unknownReplicaRuns,
      kill,
      deactivations: {
        sent: record.departures.length, answered2xx: answered.length,
        okta: record.departures.filter((d) => d.dialect === "okta").length, entra: record.departures.filter((d) => d.dialect === "entra").length,
        notRevokedAtResponse: notRevoked.length,
        leftAtResponse: notRevoked.slice(0, 3).map((d) => ({ account: d.account.slug, user: d.user.idpId, dialect: d.dialect, left: d.leftAtResponse })),
        // where the tail came from: the replica, and the time from the kill (negative: before it)
        slowest: [...answered].sort((a, b) => b.ms - a.ms).slice(0, 5).map((d) => ({
          ms: Math.round(d.ms), replica: replicas.find((r) => r.url === d.replica)?.name ?? d.replica, dialect: d.dialect,
          secondsAfterKill: d.sentAt === undefined ? null : Number(((d.sentAt - Date.parse(kill.killedAt)) / 1000).toFixed(1)),
        })),
      },
      groupChanges: { count: record.groupChanges.length, appliedP50Ms: percentile(appliedMs, 50), notAppliedWithin30s: record.groupChanges.filter((c) => c.appliedMs === undefined).length },
      rateLimit: { configured: RATE_LIMIT, ...rate },
      lost,
      traffic: {
        requests: record.requests, failures: record.failures, retriedAfterNetworkError: record.retried, firstFailure: record.firstFailure ?? null,
        perReplica: Object.fromEntries(replicas.map((r) => [r.name, record.requestsPerReplica.get(r.url) ?? 0])),
      },
      seedSeconds: Number(seeded.seconds.toFixed(1)),
      machine: machineInfo(),
    },
  };
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeResults(RESULTS_FILE, result);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  log(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
  const failed = CORRECTNESS.filter((t) => !met[t]);
  if (failed.length > 0) log(`correctness targets not met: ${failed.join(", ")}`);
  return SHORT && failed.length > 0 ? 1 : 0;
}

let exitCode = 0;
try {
  exitCode = await main();
} catch (error) {
  exitCode = 1;
  process.stderr.write(`fleet bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
