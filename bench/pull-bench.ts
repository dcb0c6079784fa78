// `npx tsx bench/pull-bench.ts`: how the two directory pulls do at the scale of SYNC-APIS.md §4, against local fakes
// with no added latency (so the figures are idsync's own cost: calls, client CPU, memory), each beside a baseline
// measured in the same run:
//   1. Google full pull (src/sources/google/full-pull.ts) of 50,000 users (+1,000 deleted), 5,000 groups and
//      500,000 direct memberships, with the real @googleapis/admin client and a pre-issued token (no token traffic).
//      Reports wall time, API calls (the pull's own count, cross-checked with the fake's), peak RSS of this process
//      (sampled every 50 ms) and its growth over the RSS just before the pull, and the fewest calls the page sizes
//      allow: users ⌈live/500⌉ + deleted-users listing ⌈deleted/500⌉ (fullPull reads it) + groups ⌈groups/200⌉ +
//      Σ over groups max(1, ⌈members/200⌉). Target: calls ≤ 1.1 × that minimum.
//      The client-side request budget (1,920/min by default) is raised for the fake, which has no quota: at the real
//      quota the pull takes calls ÷ 1,920 minutes whatever the client does; the expected time is printed.
//      Baseline: the same listing (same requests, page sizes, fields and members.list concurrency) with bare `fetch`,
//      no client library, no retries, no mapping. The Google fake is bench/pull-bench-google-fake.ts in a child
//      process (test/fakes/google re-renders the whole directory per request: ~95 s per groups.list page at 5,000
//      groups); it serves the same API and counts calls itself, and its CPU and memory stay out of these figures.
//   1b. The same pull as a scheduled run does it since pulls stream (src/sources/google/full-pull.ts streamFullPull
//      into src/snapshot/pull-staging.ts): every page written to the staging tables of a PostgreSQL database as it
//      arrives, then the staging applied to the snapshot in one transaction (countStagedPull + applyStagedPull),
//      twice: into an empty snapshot, then again with nothing changed. Reports wall time (read + staging, and the
//      apply transaction), RSS and heap growth as above. Targets: RSS growth ≤ 80 MiB at 50,000 users (≤ 150 MiB
//      at 500,000), read + staging ≤ 1.2 × the bare fetch. PostgreSQL runs in its own process, so its memory is not
//      in the figures; the database is BENCH_PULL_DATABASE_URL (default idsync_pull_bench on the bench's server,
//      dropped and re-created). The in-memory fullPull (what 1. measures) runs after it, for comparison; it is
//      skipped above 100,000 users (BENCH_PULL_IN_MEMORY=1 forces it) since it holds the whole directory.
//   2. Graph incremental pull (src/sources/graph/delta-pull.ts) against test/fakes/graph (HTTPS, real
//      @microsoft/microsoft-graph-client and @azure/identity, one credential kept across pulls as in production):
//      an initial full round on a generated tenant (20,000 users, 500 groups, 60,000 memberships), folded in memory and
//      then again streamed into the staging tables as a tenant's first scheduled pull makes it (streamFullDeltaRound;
//      wall time, RSS and heap growth of each, and of the round read and thrown away page by page, which is what the
//      fake, in this process, and the Graph client hold by themselves; no target), then 500 changes
//      (150 attribute changes, 100 accountEnabled=false, 50 soft deletes, 100 membership adds, 100 removes) and a
//      round from the stored deltaLinks. Target: ≤ 20 calls (and ≤ 30 s). Baseline: the initial full round.
//   3. prints a table (measure, idsync, baseline, ratio, target, verdict) and writes bench/results/pulls.json.
// Settings: BENCH_PULL_USERS (50,000), BENCH_PULL_DELETED (users ÷ 50), BENCH_PULL_GROUPS (5,000), BENCH_PULL_MEMBERSHIPS
// (500,000), BENCH_PULL_CONCURRENCY (10, idsync's default), BENCH_GRAPH_USERS (20,000), BENCH_GRAPH_GROUPS (500),
// BENCH_GRAPH_MEMBERSHIPS (60,000), BENCH_GRAPH_CHANGES (500), BENCH_PULL_RETAINED=1 (the Graph full round's heap kept after a GC,
// every 100 pages; slow), BENCH_CPU_PROF=1 (profiles the streaming Google runs: bench/results/pull-google-streaming-N.cpuprofile
// and a summary printed; slows them down), BENCH_PULL_SKIP_GRAPH=1 (skips part 2: pulls.json's graph is
// null; bench/curves.ts sets it, since the Graph tenant does not grow with the Google sizes it steps through).
// Exits 0 whether targets pass or not, 1 when a step fails.
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { auth } from "@googleapis/admin";
import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import { fixed, machineInfo, table, writeResults } from "./report.ts";
import { renderProfile, summariseProfile } from "./profile-summary.ts";
import { sampleMemory, usedHeap } from "./memory-sampler.ts";
import { BENCH_ADMIN, BENCH_TOKEN, type DirectoryShape, type FakeStats } from "./pull-bench-google-fake.ts";
import pg from "pg";
import type { Knex } from "knex";
import type { DeltaPull, FullPull } from "../src/snapshot/pulled-directory.ts";
import { fullPull, streamFullPull } from "../src/sources/google/full-pull.ts";
import { postgresKnex } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrations.ts";
import { createAccount } from "../src/accounts/accounts.ts";
import { createPulledConnection } from "../src/accounts/connections.ts";
import { applyStagedPull, countStagedPull, PullStaging } from "../src/snapshot/pull-staging.ts";
import type { ConnectionScope } from "../src/snapshot/connection-scope.ts";
import { DELETED_USER_FIELDS, GROUP_FIELDS, MEMBER_FIELDS, USER_FIELDS } from "../src/sources/google/directory-mapping.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_QUOTA_PER_MINUTE, type GoogleConnectionConfig } from "../src/sources/google/google-connection.ts";
import { RequestBudget } from "../src/sources/google/request-budget.ts";
import { deltaPull, streamFullDeltaRound, type GraphPullDeps } from "../src/sources/graph/delta-pull.ts";
import { trustExtraCa } from "../src/sources/graph/extra-ca-trust.ts";
import { parseGraphConfig } from "../src/sources/graph/graph-config.ts";
import { makeGraphCredential } from "../src/sources/graph/graph-credential.ts";
import { startGraphFake, type GraphFake } from "../test/fakes/graph/graph-fake.ts";
import { generateTenant } from "../test/fakes/graph/tenant-generator.ts";
import { seededRandom } from "../test/fakes/seeded-random.ts";
import { collectGarbage } from "./gc-time.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const USERS = num("BENCH_PULL_USERS", 50_000);
const SIZE = { users: USERS, deletedUsers: num("BENCH_PULL_DELETED", Math.round(USERS / 50)), groups: num("BENCH_PULL_GROUPS", 5_000),
  memberships: num("BENCH_PULL_MEMBERSHIPS", 500_000) };
const CONCURRENCY = num("BENCH_PULL_CONCURRENCY", DEFAULT_CONCURRENCY);
const GRAPH = { users: num("BENCH_GRAPH_USERS", 20_000), groups: num("BENCH_GRAPH_GROUPS", 500), memberships: num("BENCH_GRAPH_MEMBERSHIPS", 60_000),
  changes: num("BENCH_GRAPH_CHANGES", 500) };
/** For the fake only: high enough that the budget never makes a request wait (checked: budget.waited must stay 0). */
const FAKE_QUOTA_PER_MINUTE = 100_000_000;
const TARGETS = { callsOverMinimum: 1.1, graphCalls: 20, graphSeconds: 30, streamingOverBare: 1.2, streamingRssMiB: USERS > 100_000 ? 150 : 80 };
const SKIP_GRAPH = process.env.BENCH_PULL_SKIP_GRAPH === "1";
const RETAINED = process.env.BENCH_PULL_RETAINED === "1";
const PROFILE = process.env.BENCH_CPU_PROF === "1";
const IN_MEMORY = process.env.BENCH_PULL_IN_MEMORY ? process.env.BENCH_PULL_IN_MEMORY === "1" : USERS <= 100_000;
const PULL_DB_URL = process.env.BENCH_PULL_DATABASE_URL || (() => {
  const url = new URL(process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = "/idsync_pull_bench";
  return url.toString();
})();
const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (n: number) => `${fixed(n)} ms`;
const mib = (bytes: number) => bytes / 2 ** 20;

// ---- profile ---------------------------------------------------------------------------------------------------------

/** Runs `work` under the V8 CPU profiler (BENCH_CPU_PROF=1), writes bench/results/<name>.cpuprofile and prints its summary. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!PROFILE) return work();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    const file = path.join(ROOT, "bench", "results", `${name}.cpuprofile`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    log(renderProfile(name, summariseProfile(file, 25)));
  }
}

// ---- memory ---------------------------------------------------------------------------------------------------------


/** Peak RSS over a stretch of work, sampled every 50 ms, and the RSS just before it (after a GC). */
interface Measured<T> { result: T; wallMs: number; baselineMiB: number; peakMiB: number; growthMiB: number; heapGrowthMiB: number }

/**
 * Also the peak of heapUsed + external over its value before: unlike RSS (which the allocator keeps once grown), it
 * is comparable between two runs in one process, so it is what the bare baseline is compared on.
 */
async function withRss<T>(work: () => Promise<T>): Promise<Measured<T>> {
  collectGarbage();
  const baseline = process.memoryUsage().rss;
  const heapBaseline = usedHeap();
  const sampler = sampleMemory();
  const started = performance.now();
  let peaks: { rss: number; heap: number } | undefined;
  try {
    const result = await work();
    const wallMs = performance.now() - started;
    peaks = sampler.stop();
    return { result, wallMs, baselineMiB: mib(baseline), peakMiB: mib(peaks.rss), growthMiB: mib(peaks.rss - baseline), heapGrowthMiB: mib(peaks.heap - heapBaseline) };
  } finally {
    if (!peaks) sampler.stop();
  }
}

/**
 * With BENCH_PULL_RETAINED=1: the heap still in use after a full GC, taken every 100 pages of a walk, at
 * its largest. Peak heap counts garbage V8 has not collected yet; this counts only what is kept. Off by
 * default: the GCs make the walk several times slower.
 */
function retainedHeap() {
  const start = process.memoryUsage().heapUsed;
  let pages = 0;
  let max = 0;
  return {
    page(): void {
      if (!RETAINED || ++pages % 100 !== 0) return;
      collectGarbage();
      max = Math.max(max, process.memoryUsage().heapUsed - start);
    },
    get maxMiB(): number | null {
      return RETAINED ? mib(max) : null;
    },
  };
}

// ---- the Google fake, in a child process ---------------------------------------------------------------------------

interface GoogleFakeChild {
  readonly url: string;
  readonly shape: DirectoryShape;
  stats(): Promise<FakeStats>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function startGoogleFakeChild(): Promise<GoogleFakeChild & { buildMs: number; rssMiB: number }> {
  const child: ChildProcess = fork(path.join(ROOT, "bench", "pull-bench-google-fake.ts"), [], {
    env: { ...process.env, PULL_BENCH_FAKE_CHILD: "1", PULL_BENCH_SIZE: JSON.stringify(SIZE) }, stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 0;
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the Google fake exited (${code}) before it was ready`)));
    child.on("message", (message: Record<string, unknown>) => {
      if (message.type === "ready") resolve(message);
      else waiting.get(message.id as number)?.(message);
    });
  });
  const ask = (type: string) => new Promise<Record<string, unknown>>((resolve) => {
    const id = nextId++;
    waiting.set(id, (m) => { waiting.delete(id); resolve(m); });
    child.send({ type, id });
  });
  const message = await ready;
  child.removeAllListeners("exit");
  return {
    url: message.url as string, shape: message.shape as DirectoryShape, buildMs: message.buildMs as number, rssMiB: message.rssMiB as number,
    stats: async () => (await ask("stats")).stats as FakeStats,
    reset: async () => { await ask("reset"); },
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => { clearTimeout(timer); resolve(); });
      if (child.connected) child.send({ type: "close", id: -1 });
      else child.kill("SIGTERM");
    }),
  };
}

// ---- Google: the bare-fetch baseline --------------------------------------------------------------------------------

/** The listing fullPull does, with bare fetch: same requests, page sizes, fields and members concurrency; no retries. */
async function bareGoogleListing(url: string, concurrency: number) {
  let calls = 0;
  const headers = { authorization: `Bearer ${BENCH_TOKEN}` };
  async function list(pathname: string, params: Record<string, string>, key: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ ...params, ...(pageToken ? { pageToken } : {}) });
      calls += 1;
      const response = await fetch(`${url}${pathname}?${query}`, { headers });
      if (!response.ok) throw new Error(`bare ${pathname}: HTTP ${response.status} ${await response.text()}`);
      const page = (await response.json()) as Record<string, unknown>;
      items.push(...((page[key] as unknown[] | undefined) ?? []));
      pageToken = page.nextPageToken as string | undefined;
    } while (pageToken);
    return items;
  }
  const api = "/admin/directory/v1";
  const users = await list(`${api}/users`, { customer: "my_customer", maxResults: "500", fields: USER_FIELDS }, "users");
  const deleted = await list(`${api}/users`, { customer: "my_customer", maxResults: "500", showDeleted: "true", fields: DELETED_USER_FIELDS }, "users");
  const groups = (await list(`${api}/groups`, { customer: "my_customer", maxResults: "200", fields: GROUP_FIELDS }, "groups")) as Array<{ id: string }>;
  const members = new Array<unknown[]>(groups.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, async () => {
    while (next < groups.length) {
      const i = next++;
      members[i] = await list(`${api}/groups/${encodeURIComponent(groups[i]!.id)}/members`, { maxResults: "200", fields: MEMBER_FIELDS }, "members");
    }
  }));
  return { calls, users: users.length, deleted: deleted.length, groups: groups.length, members: members.reduce((n, m) => n + m.length, 0) };
}

/** A few pages of each listing, bare; the measured runs pay for their own first use of their code. */
async function warmUp(url: string): Promise<void> {
  const headers = { authorization: `Bearer ${BENCH_TOKEN}` };
  const get = async (pathname: string, params: Record<string, string>) => {
    const response = await fetch(`${url}/admin/directory/v1${pathname}?${new URLSearchParams(params)}`, { headers });
    if (!response.ok) throw new Error(`warm-up ${pathname}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  };
  await get("/users", { customer: "my_customer", maxResults: "500", fields: USER_FIELDS });
  const groups = (await get("/groups", { customer: "my_customer", maxResults: "200", fields: GROUP_FIELDS })).groups as Array<{ id: string }> | undefined;
  for (const group of (groups ?? []).slice(0, 50)) await get(`/groups/${group.id}/members`, { maxResults: "200", fields: MEMBER_FIELDS });
}

/** Fewest calls the page sizes allow (an empty listing still takes one call). */
function minimumCalls(shape: DirectoryShape) {
  const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
  const byKind = {
    users: pages(shape.liveUsers, 500),
    "users showDeleted": pages(shape.deletedUsers, 500),
    groups: pages(shape.groups, 200),
    members: shape.memberCounts.reduce((sum, n) => sum + pages(n, 200), 0),
  };
  return { byKind, total: Object.values(byKind).reduce((a, b) => a + b, 0) };
}

// ---- Google: the streaming pull into PostgreSQL ------------------------------------------------------------------------

async function withDatabase<T>(work: (knex: Knex) => Promise<T>): Promise<T> {
  const name = new URL(PULL_DB_URL).pathname.slice(1);
  const admin = new URL(PULL_DB_URL);
  admin.pathname = "/postgres";
  const recreate = async (create: boolean) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(`drop database if exists ${name} with (force)`);
      if (create) await client.query(`create database ${name}`);
    } finally {
      await client.end();
    }
  };
  await recreate(true);
  const knex = postgresKnex(PULL_DB_URL);
  try {
    await migrateToLatest(knex);
    return await work(knex);
  } finally {
    await knex.destroy();
    await recreate(false);
  }
}

interface StreamedRun { calls: number; stagingMs: number; transactionMs: number; counts: Record<string, number> }

/** What runPull does for a Google full pull, minus lease, run row and reconcile: stream into staging, apply in one transaction. */
async function streamedPull(knex: Knex, scope: ConnectionScope, config: GoogleConnectionConfig, deps: Parameters<typeof fullPull>[1]): Promise<StreamedRun> {
  const started = performance.now();
  const staging = await PullStaging.open(knex, scope, null);
  const stream = streamFullPull(config, deps);
  try {
    for await (const page of stream) await staging.write(page);
    await staging.finish();
  } catch (error) {
    await staging.drop();
    throw error;
  }
  const stagingMs = performance.now() - started;
  const applyStarted = performance.now();
  const counts = await knex.transaction(async (trx) => {
    const staged = await countStagedPull(trx, scope, staging.stageId);
    const write = await applyStagedPull(trx, scope, staging.stageId, null);
    return { ...staged, ...write.counts, affectedUsers: write.affectedUserIds?.length ?? -1 };
  });
  return { calls: stream.calls, stagingMs, transactionMs: performance.now() - applyStarted, counts };
}

async function googleStep(fake: GoogleFakeChild) {
  const { shape } = fake;
  const minimum = minimumCalls(shape);
  const multiPage = shape.memberCounts.filter((n) => n > 200).length;
  log(`directory: ${shape.liveUsers} users (+${shape.deletedUsers} deleted), ${shape.groups} groups, ${shape.userMemberships} user + ${shape.groupMemberships} group memberships; ` +
    `${multiPage} groups need several member pages (largest ${shape.largest.join(", ")}), ${shape.memberCounts.filter((n) => n === 0).length} are empty`);

  // warm the fake's code paths (JIT) so the first measured run does not pay for them: a few pages of each listing
  await warmUp(fake.url);
  await fake.reset();

  const client = new auth.OAuth2();
  client.setCredentials({ access_token: BENCH_TOKEN, expiry_date: Date.now() + 3600e3 });
  const budget = new RequestBudget(FAKE_QUOTA_PER_MINUTE);
  const config: GoogleConnectionConfig = { customerId: "my_customer", subject: BENCH_ADMIN, credentials: { keyEnv: "PULL_BENCH_UNUSED_KEY" },
    fakeBaseUrl: fake.url, quotaPerMinute: FAKE_QUOTA_PER_MINUTE, concurrency: CONCURRENCY };
  log(`Google full pull: concurrency ${CONCURRENCY}; request budget raised to ${FAKE_QUOTA_PER_MINUTE.toLocaleString("en")}/min for the fake (default ${DEFAULT_QUOTA_PER_MINUTE}/min, the fake has no quota)`);
  const expected = { users: shape.liveUsers, deleted: shape.deletedUsers, groups: shape.groups, memberships: shape.userMemberships + shape.groupMemberships };
  const deps = { auth: { client, clientId: null }, budget };

  // streaming, as scheduled pulls run: first into an empty snapshot, then again with nothing changed
  const streaming = await withDatabase(async (knex) => {
    const account = await createAccount(knex, { slug: "pull-bench", domains: ["bench.example.com"], ownerEmail: "owner@bench.example.com" }, "bench");
    const connection = await createPulledConnection(knex, "pull-bench", "google", undefined,
      { customerId: "my_customer", subject: BENCH_ADMIN, credentials: { keyEnv: "PULL_BENCH_UNUSED_KEY" }, fakeBaseUrl: fake.url }, "bench");
    const scope = { connectionId: connection.id, accountId: account.id };
    const runs: Array<Measured<StreamedRun>> = [];
    for (const label of ["into an empty snapshot", "again, nothing changed"]) {
      await fake.reset();
      const run = await withRss(() => profiled(`pull-google-streaming-${runs.length + 1}`, () => streamedPull(knex, scope, config, deps)));
      const fakeStats = await fake.stats();
      const c = run.result.counts;
      const got = { users: c.listedUsers, groups: c.groups, memberships: c.memberships };
      const want = { users: expected.users, groups: expected.groups, memberships: expected.memberships };
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`the streamed pull is not the directory: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      if (run.result.calls !== fakeStats.api) throw new Error(`the streamed pull counted ${run.result.calls} calls, the fake ${fakeStats.api}`);
      log(`  streaming ${label}: ${ms(run.wallMs)} (read + staging ${ms(run.result.stagingMs)}, apply transaction ${ms(run.result.transactionMs)}), ${run.result.calls} calls, ` +
        `RSS ${fixed(run.baselineMiB)} → peak ${fixed(run.peakMiB)} MiB (+${fixed(run.growthMiB)} MiB), heap +${fixed(run.heapGrowthMiB)} MiB at peak; ` +
        `written: ${c.usersWritten} users, ${c.usersTombstoned} tombstoned, ${c.groupsWritten} groups, +${c.membershipsAdded}/−${c.membershipsRemoved} memberships`);
      runs.push(run);
    }
    return runs;
  });
  const [firstStream, steadyStream] = streaming as [Measured<StreamedRun>, Measured<StreamedRun>];

  let idsync: Measured<FullPull> | null = null;
  if (IN_MEMORY) {
    await fake.reset();
    idsync = await withRss<FullPull>(() => fullPull(config, deps));
    const pull = idsync.result;
    const fakeStats = await fake.stats();
    const got = { users: pull.users.length, deleted: pull.deletedUserSourceIds.length, groups: pull.groups.length, memberships: pull.memberships.length };
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`the Google pull is not the directory: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    if (pull.calls !== fakeStats.api) throw new Error(`the pull counted ${pull.calls} calls, the fake ${fakeStats.api}`);
    if (fakeStats.errors > 0) throw new Error(`the fake answered ${fakeStats.errors} errors during the pull`);
    log(`  in memory (fullPull, no database): ${ms(idsync.wallMs)}, ${pull.calls} calls (fake counted ${fakeStats.api}, at most ${fakeStats.maxConcurrent} in flight), ` +
      `RSS ${fixed(idsync.baselineMiB)} → peak ${fixed(idsync.peakMiB)} MiB (+${fixed(idsync.growthMiB)} MiB), heap +${fixed(idsync.heapGrowthMiB)} MiB at peak; result checked against the directory`);
    log(`  calls by listing (actual / minimum): ${Object.entries(minimum.byKind).map(([k, min]) => `${k} ${fakeStats.byKind[k] ?? 0}/${min}`).join(", ")}`);
  }
  if (budget.waited > 0) throw new Error(`the raised request budget still made ${budget.waited} requests wait`);
  const calls = firstStream.result.calls;

  await fake.reset();
  const bare = await withRss(() => bareGoogleListing(fake.url, CONCURRENCY));
  const bareStats = await fake.stats();
  if (bare.result.calls !== bareStats.api) throw new Error(`the bare listing counted ${bare.result.calls} calls, the fake ${bareStats.api}`);
  log(`  bare fetch: ${ms(bare.wallMs)}, ${bare.result.calls} calls, ${bare.result.users} users, ${bare.result.groups} groups, ${bare.result.members} members; ` +
    `heap +${fixed(bare.heapGrowthMiB)} MiB at peak (its RSS is not comparable: the idsync run already grew it)`);
  const atQuotaMin = calls / DEFAULT_QUOTA_PER_MINUTE;
  log(`  at the real quota: ${calls} calls ÷ ${DEFAULT_QUOTA_PER_MINUTE}/min ≈ ${fixed(atQuotaMin, 1)} min (budget-bound; ${fixed(calls / 2400, 1)} min at Google's full 2,400/min)`);
  const measured = (m: Measured<unknown>) => ({ wallMs: m.wallMs, baselineRssMiB: m.baselineMiB, peakRssMiB: m.peakMiB, rssGrowthMiB: m.growthMiB, heapGrowthMiB: m.heapGrowthMiB });
  const streamed = (m: Measured<StreamedRun>) => ({ ...measured(m), stagingMs: m.result.stagingMs, transactionMs: m.result.transactionMs, counts: m.result.counts });
  return { shape, minimum, calls, streaming: { first: streamed(firstStream), unchanged: streamed(steadyStream) },
    idsync: idsync ? measured(idsync) : null, bare: { wallMs: bare.wallMs, calls: bare.result.calls, heapGrowthMiB: bare.heapGrowthMiB }, expectedMinutesAtDefaultQuota: atQuotaMin };
}

// ---- Graph ----------------------------------------------------------------------------------------------------------

const SECRET_ENV = "PULL_BENCH_GRAPH_SECRET";

/** 30 % attribute changes, 20 % accountEnabled=false, 10 % soft deletes, 20 % membership adds, 20 % removes. */
function applyChanges(generated: ReturnType<typeof generateTenant>, count: number) {
  const { tenant, userIds, groupIds } = generated;
  const random = seededRandom(99);
  const n = { attributes: Math.round(count * 0.3), disabled: Math.round(count * 0.2), softDeleted: Math.round(count * 0.1), added: Math.round(count * 0.2) };
  const removedCount = count - n.attributes - n.disabled - n.softDeleted - n.added;
  const enabled = userIds.filter((id) => tenant.users.get(id)!.user.accountEnabled);
  let at = 0;
  const take = (k: number) => enabled.slice(at, (at += k));
  for (const id of take(n.attributes)) tenant.updateUser(id, { displayName: `Renamed ${id.slice(0, 6)}`, department: "Reorganised" });
  for (const id of take(n.disabled)) tenant.updateUser(id, { accountEnabled: false });
  for (const id of take(n.softDeleted)) tenant.softDeleteUser(id);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  let added = 0, removed = 0;
  const touched = new Set<string>();
  while (added < n.added) {
    const g = pick(groupIds), u = pick(userIds);
    const key = `${g}|${u}`;
    if (touched.has(key) || tenant.groups.get(g)!.members.has(u) || tenant.users.get(u)!.state !== "active") continue;
    touched.add(key);
    tenant.addMember(g, u);
    added += 1;
  }
  while (removed < removedCount) {
    const g = pick(groupIds);
    const members = [...tenant.groups.get(g)!.members].filter((m) => tenant.users.has(m) && !touched.has(`${g}|${m}`));
    if (members.length === 0) continue;
    const u = pick(members);
    touched.add(`${g}|${u}`);
    tenant.removeMember(g, u);
    removed += 1;
  }
  return { attributes: n.attributes, disabled: n.disabled, softDeleted: n.softDeleted, added, removed };
}

async function graphStep(setFake: (fake: GraphFake) => void) {
  let started = performance.now();
  const generated = generateTenant({ seed: 11, users: GRAPH.users, groups: GRAPH.groups, memberships: GRAPH.memberships });
  const fake = await startGraphFake({ tenant: generated.tenant });
  setFake(fake);
  log(`Graph tenant: ${GRAPH.users} users, ${GRAPH.groups} groups, ${GRAPH.memberships} memberships (+${generated.nestedEdges.length} nested), built in ${ms(performance.now() - started)}`);
  const config = parseGraphConfig({ tenantId: fake.tenant.tenantId, clientId: fake.app.clientId, credentials: { secretEnv: SECRET_ENV }, fakeOrigin: fake.url });
  const env = { [SECRET_ENV]: fake.app.clientSecret };
  const credential = makeGraphCredential(config, env, await trustExtraCa(fake.caPem));
  const deps: GraphPullDeps = { env, credential, trustedCaPem: fake.caPem };

  let before = fake.calls.graph;
  const initialRun = await withRss<DeltaPull>(() => deltaPull(config, deps, { usersDeltaLink: null, groupsDeltaLink: null }));
  const { result: initial, wallMs: initialMs } = initialRun;
  const initialFake = fake.calls.graph - before;
  if (!initial.full || initial.changedUsers.length !== GRAPH.users || initial.changedGroups.length !== GRAPH.groups) {
    throw new Error(`the initial Graph round is not the tenant: ${initial.changedUsers.length} users, ${initial.changedGroups.length} groups`);
  }
  if (initial.calls !== initialFake) throw new Error(`the initial round counted ${initial.calls} calls, the fake ${initialFake}`);
  log(`  initial full round: ${ms(initialMs)}, ${initial.calls} calls (fake counted ${initialFake}; the token request is outside both), ` +
    `${initial.changedUsers.length} users, ${initial.changedGroups.length} groups, ${initial.addedMemberships.length} memberships; ` +
    `in memory: RSS +${fixed(initialRun.growthMiB)} MiB, heap +${fixed(initialRun.heapGrowthMiB)} MiB at peak`);

  // the same full round as a tenant's first scheduled pull (or a resync) makes it: streamed into staging page by page
  const streamed = await withDatabase(async (knex) => {
    const account = await createAccount(knex, { slug: "graph-bench", domains: ["bench.example.com"], ownerEmail: "owner@bench.example.com" }, "bench");
    const connection = await createPulledConnection(knex, "graph-bench", "graph", undefined,
      { tenantId: fake.tenant.tenantId, clientId: fake.app.clientId, credentials: { secretEnv: SECRET_ENV }, fakeOrigin: fake.url }, "bench");
    const scope = { connectionId: connection.id, accountId: account.id };
    return withRss(async () => {
      const staging = await PullStaging.open(knex, scope, null);
      const stream = streamFullDeltaRound(config, deps);
      try {
        const retained = retainedHeap();
        for await (const page of stream) {
          await staging.write(page);
          retained.page();
        }
        await staging.finish();
        return { calls: stream.calls, counts: await countStagedPull(knex, scope, staging.stageId), retainedMiB: retained.maxMiB };
      } finally {
        await staging.drop();
      }
    });
  });
  // the same round read and thrown away page by page: what the in-process fake and the Graph client hold by themselves
  const discarded = await withRss(async () => {
    const retained = retainedHeap();
    let pages = 0;
    for await (const _page of streamFullDeltaRound(config, deps)) {
      pages += 1;
      retained.page();
    }
    return { pages, retainedMiB: retained.maxMiB };
  });
  const kept = (miB: number | null) => (miB === null ? "" : `, ${fixed(miB)} MiB kept after GC at most (BENCH_PULL_RETAINED=1)`);
  log(`  the same full round read and discarded page by page (the fake's and the client's share): ${ms(discarded.wallMs)}, ${discarded.result.pages} pages, ` +
    `heap +${fixed(discarded.heapGrowthMiB)} MiB at peak${kept(discarded.result.retainedMiB)}`);
  const { counts } = streamed.result;
  if (counts.listedUsers !== GRAPH.users || counts.groups !== GRAPH.groups || counts.memberships !== initial.addedMemberships.length) {
    throw new Error(`the streamed Graph round is not the tenant: ${JSON.stringify(counts)}`);
  }
  log(`  the same full round streamed into staging: ${ms(streamed.wallMs)}, ${streamed.result.calls} calls, ` +
    `RSS +${fixed(streamed.growthMiB)} MiB, heap +${fixed(streamed.heapGrowthMiB)} MiB at peak${kept(streamed.result.retainedMiB)}; staged counts checked against the tenant`);

  const changes = applyChanges(generated, GRAPH.changes);
  log(`  changes: ${changes.attributes} attribute changes, ${changes.disabled} accountEnabled=false, ${changes.softDeleted} soft deletes, ` +
    `${changes.added} membership adds, ${changes.removed} removes`);
  before = fake.calls.graph;
  started = performance.now();
  const next = await deltaPull(config, deps, { usersDeltaLink: initial.usersDeltaLink, groupsDeltaLink: initial.groupsDeltaLink });
  const incrementalMs = performance.now() - started;
  const incrementalFake = fake.calls.graph - before;
  const got = { changedUsers: next.changedUsers.length, disabled: next.changedUsers.filter((u) => !u.active).length, removedUsers: next.removedUsers.length,
    addedMemberships: next.addedMemberships.length, removedMemberships: next.removedMemberships.length };
  const want = { changedUsers: changes.attributes + changes.disabled, disabled: changes.disabled, removedUsers: changes.softDeleted,
    addedMemberships: changes.added, removedMemberships: changes.removed };
  if (next.full || JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`the incremental Graph round is not the changes: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  if (next.calls !== incrementalFake) throw new Error(`the incremental round counted ${next.calls} calls, the fake ${incrementalFake}`);
  log(`  incremental round: ${ms(incrementalMs)}, ${next.calls} calls (fake counted ${incrementalFake}): ${got.changedUsers} changed users (${got.disabled} disabled), ` +
    `${got.removedUsers} removed, +${got.addedMemberships}/−${got.removedMemberships} memberships; result checked against the changes`);
  const memory = (m: Measured<unknown>) => ({ wallMs: m.wallMs, rssGrowthMiB: m.growthMiB, heapGrowthMiB: m.heapGrowthMiB });
  return {
    tenant: GRAPH, changes, initial: { wallMs: initialMs, calls: initial.calls }, incremental: { wallMs: incrementalMs, calls: next.calls, ...got },
    fullRoundMemory: {
      inMemory: memory(initialRun),
      streamed: { ...memory(streamed), calls: streamed.result.calls, retainedHeapMiB: streamed.result.retainedMiB },
      readAndDiscarded: { ...memory(discarded), retainedHeapMiB: discarded.result.retainedMiB },
    },
  };
}

// ---- main -----------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`idsync pull benchmark (fakes, no added latency): Google ${SIZE.users} users, ${SIZE.groups} groups, ${SIZE.memberships} memberships; ` +
    (SKIP_GRAPH ? "Graph skipped (BENCH_PULL_SKIP_GRAPH=1)" : `Graph ${GRAPH.users} users, ${GRAPH.groups} groups, ${GRAPH.changes} changes`));
  let googleFake: (GoogleFakeChild & { buildMs: number; rssMiB: number }) | undefined;
  let graphFake: GraphFake | undefined;
  try {
    googleFake = await startGoogleFakeChild();
    log(`Google fake (child process ${fixed(googleFake.rssMiB)} MiB RSS) built and serving in ${ms(googleFake.buildMs)}`);
    const google = await googleStep(googleFake);
    await googleFake.close();
    googleFake = undefined;
    const graph = SKIP_GRAPH ? null : await graphStep((fake) => { graphFake = fake; });

    const ratio = (a: number, b: number) => fixed(a / b, 2);
    const minCalls = google.minimum.total;
    const callsLimit = TARGETS.callsOverMinimum * minCalls;
    const first = google.streaming.first, unchanged = google.streaming.unchanged;
    const bareMs = google.bare.wallMs;
    const overBare = (m: number) => m <= TARGETS.streamingOverBare * bareMs ? "PASS" : "FAIL";
    const rssOk = (m: number) => m <= TARGETS.streamingRssMiB ? "PASS" : "FAIL";
    const rows = [
      ["Google full pull: calls", String(google.calls), `${minCalls} (minimum)`, ratio(google.calls, minCalls),
        `≤ ${TARGETS.callsOverMinimum} × min (${fixed(callsLimit)})`, google.calls <= callsLimit ? "PASS" : "FAIL"],
      ["Google streaming pull: read + staging", ms(first.stagingMs), `${ms(bareMs)} (bare fetch)`, ratio(first.stagingMs, bareMs),
        `≤ ${TARGETS.streamingOverBare} × bare`, overBare(first.stagingMs)],
      ["Google streaming pull: apply transaction (empty snapshot)", ms(first.transactionMs), "", "", "", ""],
      ["Google streaming pull: total (empty snapshot)", ms(first.wallMs), `${ms(bareMs)} (bare fetch)`, ratio(first.wallMs, bareMs),
        `≤ ${TARGETS.streamingOverBare} × bare`, overBare(first.wallMs)],
      ["Google streaming pull: read + staging (unchanged)", ms(unchanged.stagingMs), `${ms(bareMs)} (bare fetch)`, ratio(unchanged.stagingMs, bareMs),
        `≤ ${TARGETS.streamingOverBare} × bare`, overBare(unchanged.stagingMs)],
      ["Google streaming pull: apply transaction (unchanged)", ms(unchanged.transactionMs), "", "", "", ""],
      ["Google streaming pull: total (unchanged)", ms(unchanged.wallMs), `${ms(bareMs)} (bare fetch)`, ratio(unchanged.wallMs, bareMs),
        `≤ ${TARGETS.streamingOverBare} × bare`, overBare(unchanged.wallMs)],
      ["Google streaming pull: RSS growth (empty snapshot)", `+${fixed(first.rssGrowthMiB)} MiB`, `${fixed(first.baselineRssMiB)} MiB (before)`, "",
        `≤ ${TARGETS.streamingRssMiB} MiB`, rssOk(first.rssGrowthMiB)],
      ["Google streaming pull: RSS growth (unchanged)", `+${fixed(unchanged.rssGrowthMiB)} MiB`, `${fixed(unchanged.baselineRssMiB)} MiB (before)`, "",
        `≤ ${TARGETS.streamingRssMiB} MiB`, rssOk(unchanged.rssGrowthMiB)],
      ["Google streaming pull: heap growth", `+${fixed(first.heapGrowthMiB)} MiB`, `+${fixed(google.bare.heapGrowthMiB)} MiB (bare)`,
        ratio(first.heapGrowthMiB, google.bare.heapGrowthMiB), "", ""],
      ["Google full pull: at 1,920/min", `${fixed(google.expectedMinutesAtDefaultQuota, 1)} min`, "", "", "≤ 10 min (§4)",
        google.expectedMinutesAtDefaultQuota <= 10 ? "PASS" : "FAIL"],
      ...(google.idsync ? [
        ["Google in-memory fullPull (no database): wall time", ms(google.idsync.wallMs), `${ms(bareMs)} (bare fetch)`, ratio(google.idsync.wallMs, bareMs), "", ""],
        ["Google in-memory fullPull: RSS growth", `+${fixed(google.idsync.rssGrowthMiB)} MiB`, "(after the streaming runs grew RSS)", "", "", ""],
        ["Google in-memory fullPull: heap growth", `+${fixed(google.idsync.heapGrowthMiB)} MiB`, `+${fixed(google.bare.heapGrowthMiB)} MiB (bare)`,
          ratio(google.idsync.heapGrowthMiB, google.bare.heapGrowthMiB), "", ""],
      ] : []),
      ...(graph ? [[`Graph incremental (${GRAPH.changes} changes): calls`, String(graph.incremental.calls), `${graph.initial.calls} (initial full)`,
        ratio(graph.incremental.calls, graph.initial.calls), `≤ ${TARGETS.graphCalls}`, graph.incremental.calls <= TARGETS.graphCalls ? "PASS" : "FAIL"],
      [`Graph incremental (${GRAPH.changes} changes): wall time`, ms(graph.incremental.wallMs), `${ms(graph.initial.wallMs)} (initial full)`,
        ratio(graph.incremental.wallMs, graph.initial.wallMs), `≤ ${TARGETS.graphSeconds} s`, graph.incremental.wallMs <= TARGETS.graphSeconds * 1000 ? "PASS" : "FAIL"],
      ["Graph full round streamed into staging: heap growth", `+${fixed(graph.fullRoundMemory.streamed.heapGrowthMiB)} MiB`,
        `+${fixed(graph.fullRoundMemory.inMemory.heapGrowthMiB)} MiB (in memory)`, ratio(graph.fullRoundMemory.streamed.heapGrowthMiB, graph.fullRoundMemory.inMemory.heapGrowthMiB), "", ""],
      ["Graph full round read and discarded: heap growth", `+${fixed(graph.fullRoundMemory.readAndDiscarded.heapGrowthMiB)} MiB`, "(the in-process fake's and the client's share)", "", "", ""],
      ["Graph full round streamed into staging: wall time", ms(graph.fullRoundMemory.streamed.wallMs), `${ms(graph.initial.wallMs)} (in memory)`,
        ratio(graph.fullRoundMemory.streamed.wallMs, graph.initial.wallMs), "", ""]] : []),
    ];
    log("");
    log(table(["measure", "idsync", "baseline", "ratio", "target", "verdict"], rows));
    log(`Google: request budget raised to ${FAKE_QUOTA_PER_MINUTE.toLocaleString("en")}/min for the fake (no request waited); at the default ${DEFAULT_QUOTA_PER_MINUTE}/min ` +
      `the pull is budget-bound at ≈ ${fixed(google.expectedMinutesAtDefaultQuota, 1)} min. Baseline: the same requests with bare fetch (no client library, retries or mapping), ` +
      `run after idsync's; the fake runs in a child process. RSS: this process, sampled every 50 ms, growth over the RSS after a GC just before the pull; heap: heapUsed + external, same sampling.`);
    if (graph) log(`Graph: baseline is the initial full round on the same tenant; one credential kept across both rounds (its token request belongs to the initial one).`);
    mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
    writeResults(path.join(ROOT, "bench", "results", "pulls.json"), {
      machine: machineInfo(), google: { size: SIZE, concurrency: CONCURRENCY, quotaPerMinuteForFake: FAKE_QUOTA_PER_MINUTE, ...google,
        shape: { ...google.shape, memberCounts: undefined } }, graph,
      targets: rows.filter((r) => r[5] !== "").map((r) => ({ measure: r[0], value: r[1], limit: r[4], pass: r[5] === "PASS" })),
    });
    log(`results written to bench/results/pulls.json`);
  } finally {
    await googleFake?.close();
    await (graphFake as GraphFake | undefined)?.close();
  }
}

main().then(
  () => { process.exitCode = 0; },
  (error: Error) => {
    log(`pull bench failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  },
);
