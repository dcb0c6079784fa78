// `npx tsx bench/primary-cost.ts`: what one SCIM request costs the PostgreSQL primary, the inputs of
// docs/scaling.md's capacity model. Starts one `idsync serve --no-scheduler` on the throwaway database
// idsync_bench and, per request kind, counts the CPU the database's own backends used (/proc, Linux
// only), the CPU idsync used, and the WAL the cluster wrote (pg_current_wal_lsn) across a fixed number of requests.
// Also the first full apply and a no-op full reconcile of that account and of a 10-user one, one at a time.
// Settings: BENCH_DATABASE_URL as for `npm run bench`; PRIMARY_COST_USERS (default 2,000).
// WAL is counted for the whole cluster: run it while nothing else writes to that PostgreSQL.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, killAllChildrenNow, startChild, stopAllChildren, waitHealthy } from "./processes.ts";
import { addMembersBody, closeAgent, request, SCIM_JSON, userBody, userName } from "./preload.ts";
import { benchSql, benchUrl, createBenchDatabase, DB_NAME, dropBenchDatabase } from "./bench-db.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const USERS = Number(process.env.PRIMARY_COST_USERS || 2_000);
const IN_FLIGHT = 8;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU (ms) a process has used so far; 0 once it has ended. */
function processCpuMs(pid: string | number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime + stime
  } catch {
    return 0;
  }
}

/** CPU (ms) used so far by this database's backends, found by their process title. */
function backendCpuMs(): number {
  let ms = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (title.startsWith("postgres: ") && title.includes(` ${DB_NAME} `)) ms += processCpuMs(pid);
    } catch { /* the process ended meanwhile */ }
  }
  return ms;
}

async function walLsn(): Promise<string> {
  const [row] = await benchSql<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  return row!.lsn;
}

async function inParallel(count: number, lanes: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, async () => {
    while (next < count) await work(next++);
  }));
}

interface Cost {
  requests: number; seconds: number; perSecond: number;
  /** Wall time of one request; only when they ran one at a time. */
  msPerRequest?: number;
  dbCpuMsPerRequest: number; idsyncCpuMsPerRequest: number; walBytesPerRequest: number;
}

let idsyncPid = 0;

async function measure(requests: number, work: (i: number) => Promise<void>, lanes = IN_FLIGHT): Promise<Cost> {
  const [cpu0, own0, lsn0, t0] = [backendCpuMs(), processCpuMs(idsyncPid), await walLsn(), performance.now()];
  await inParallel(requests, lanes, work);
  const seconds = (performance.now() - t0) / 1000;
  const [cpu1, own1, lsn1] = [backendCpuMs(), processCpuMs(idsyncPid), await walLsn()];
  const [wal] = await benchSql<{ bytes: string }>("select pg_wal_lsn_diff($1, $2)::text as bytes", [lsn1, lsn0]);
  return {
    requests, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(requests / seconds),
    ...(lanes === 1 ? { msPerRequest: Number(((seconds * 1000) / requests).toFixed(1)) } : {}),
    dbCpuMsPerRequest: Number(((cpu1 - cpu0) / requests).toFixed(3)),
    idsyncCpuMsPerRequest: Number(((own1 - own0) / requests).toFixed(3)), walBytesPerRequest: Math.round(Number(wal!.bytes) / requests),
  };
}

async function main(): Promise<void> {
  await createBenchDatabase();
  const port = await freePort();
  const adminToken = `bench-${randomBytes(24).toString("hex")}`;
  const idsync = startChild("idsync", process.execPath, ["bin/idsync.js", "serve", "--no-scheduler"], {
    DATABASE_URL: benchUrl, PORT: String(port), HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: adminToken,
    IDSYNC_SCIM_RATE_LIMIT: "1000000", IDSYNC_SCIM_RATE_BURST: "1000000", LOG_LEVEL: "warn",
  }, ROOT);
  idsyncPid = idsync.process.pid!;
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(idsync, `${base}/healthz`);
  const admin = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  await request("POST", `${base}/admin/v1/accounts`, admin, JSON.stringify({ slug: "bench", domains: ["bench.example.com"] }), 201);
  const connection = await request("POST", `${base}/admin/v1/accounts/bench/connections`, admin, JSON.stringify({ kind: "scim" }), 201);
  const scim = { Authorization: `Bearer ${(JSON.parse(connection.body) as { token: string }).token}`, "Content-Type": SCIM_JSON };
  const ids: string[] = new Array(USERS);

  const post = await measure(USERS, async (n) => {
    const answer = await request("POST", `${base}/scim/v2/Users`, scim, userBody(userName(n), n), 201);
    ids[n] = (JSON.parse(answer.body) as { id: string }).id;
  });
  await benchSql("vacuum analyze"); // as `npm run bench` does: the figures are for plans with statistics
  const get = await measure(USERS * 2, (i) =>
    request("GET", `${base}/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(i % USERS)}"`)}`, scim, undefined, 200).then(() => undefined));
  const half = Math.floor(USERS / 2);
  const group = await request("POST", `${base}/scim/v2/Groups`, scim,
    JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "cost", members: ids.slice(0, half).map((value) => ({ value })) }), 201);
  const groupId = (JSON.parse(group.body) as { id: string }).id;
  const patch = await measure(USERS - half, (i) =>
    request("PATCH", `${base}/scim/v2/Groups/${groupId}`, scim, addMembersBody([ids[half + i]!]), 204).then(() => undefined));

  // full reconciles: the first apply (the rules' PUT applies them) and no-op runs, of this account and of a small one
  const big = await reconcileCosts(base, admin, scim, ids.slice(0, USERS), "bench");
  const small = await smallAccount(base, admin);

  const result = {
    database: DB_NAME, users: USERS, inFlight: IN_FLIGHT, post, getByUserName: get, [`patchAddOneMemberTo${half}`]: patch,
    [`firstApply${USERS}Users`]: big.first, [`noopReconcile${USERS}Users`]: big.noop,
    [`firstApply${SMALL_USERS}Users`]: small.first, [`noopReconcile${SMALL_USERS}Users`]: small.noop,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

const SMALL_USERS = 10;
// every IdP user a member; the one in Owners the owner (an account with members must have one)
const RULES = "version: 1\ndefault: member\nrules:\n  - name: owners\n    group: Owners\n    role: owner\n";

async function reconcileCosts(base: string, admin: Record<string, string>, scim: Record<string, string>, ids: readonly string[], slug: string) {
  await request("POST", `${base}/scim/v2/Groups`, scim,
    JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Owners", members: [{ value: ids[0] }] }), 201);
  const first = await measure(1, () =>
    request("PUT", `${base}/admin/v1/accounts/${slug}/rules`, { ...admin, "Content-Type": "application/yaml" }, RULES, 200).then(() => undefined), 1);
  const noop = await measure(20, () => request("POST", `${base}/admin/v1/accounts/${slug}/reconcile`, admin, "{}", 200).then(() => undefined), 1);
  const [members] = await benchSql<{ n: number }>(
    "select count(*)::int as n from memberships m join accounts a on a.id = m.account_id where a.slug = $1", [slug]);
  if (members!.n !== ids.length) throw new Error(`the first apply of ${slug} made ${members!.n} members, not ${ids.length}`);
  return { first, noop };
}

/** The per-job cost that does not grow with users: a 10-user account's full reconcile. */
async function smallAccount(base: string, admin: Record<string, string>) {
  await request("POST", `${base}/admin/v1/accounts`, admin, JSON.stringify({ slug: "small", domains: ["small.example.com"] }), 201);
  const connection = await request("POST", `${base}/admin/v1/accounts/small/connections`, admin, JSON.stringify({ kind: "scim" }), 201);
  const scim = { Authorization: `Bearer ${(JSON.parse(connection.body) as { token: string }).token}`, "Content-Type": SCIM_JSON };
  const ids: string[] = [];
  for (let n = 0; n < SMALL_USERS; n++) {
    const name = `small-${n}@small.example.com`;
    ids.push((JSON.parse((await request("POST", `${base}/scim/v2/Users`, scim, userBody(name, n), 201)).body) as { id: string }).id);
  }
  return reconcileCosts(base, admin, scim, ids, "small");
}

main()
  .catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    closeAgent();
    await stopAllChildren();
    await dropBenchDatabase();
  });
process.once("exit", killAllChildrenNow);
