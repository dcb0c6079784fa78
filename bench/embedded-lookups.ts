// `npx tsx bench/embedded-lookups.ts`: the SCIM lookups on the embedded database (PGlite), which
// `npm run bench` cannot measure (it compares against a bare baseline on PostgreSQL). PGlite has no
// autovacuum: whatever statistics its tables get, idsync gives them. So this runs, right after a
// SCIM preload and with no ANALYZE of its own, the lookup Okta and Entra make before every create
// (GET /Users?filter=userName eq), the PATCH of the small group, and the walk of every user by
// startIndex, against `idsync serve --no-scheduler` on a fresh data directory. idsync only.
// Settings: BENCH_USERS (preload, default 10,000), BENCH_DURATION (seconds per run, default 10).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, killAllChildrenNow, startChild, stopAllChildren, waitHealthy } from "./processes.ts";
import { closeAgent, preload, request, USER_COUNT } from "./preload.ts";
import { runWorkload, walkUsers, type RunStats } from "./workloads.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const duration = Number(process.env.BENCH_DURATION || 10);
const log = (line: string) => process.stdout.write(`${line}\n`);
const brief = (s: RunStats) => `${s.requestsPerSecond.toFixed(0)} req/s, p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms, ${s.failures.non2xx + s.failures.errors} failures`;
process.once("exit", killAllChildrenNow);

const dataDir = mkdtempSync(path.join(tmpdir(), "idsync-bench-pglite-"));
delete process.env.DATABASE_URL;
try {
  const port = await freePort();
  const adminToken = `bench-${randomBytes(24).toString("hex")}`;
  const idsync = startChild("idsync-embedded", process.execPath, ["bin/idsync.js", "serve", "--no-scheduler"], {
    IDSYNC_DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: adminToken,
    IDSYNC_SCIM_RATE_LIMIT: "1000000", IDSYNC_SCIM_RATE_BURST: "1000000", LOG_LEVEL: "warn", IDSYNC_DEMO: "0",
  }, ROOT);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(idsync, `${url}/healthz`, 120_000);
  const admin = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  await request("POST", `${url}/admin/v1/accounts`, admin, JSON.stringify({ slug: "bench", domains: ["bench.example.com"] }), 201);
  const scimToken = (JSON.parse((await request("POST", `${url}/admin/v1/accounts/bench/connections`, admin, JSON.stringify({ kind: "scim" }), 201)).body) as { token: string }).token;
  log(`idsync on the embedded database (${dataDir}); preloading ${USER_COUNT} users through SCIM`);
  const loaded = await preload(`${url}/scim/v2`, scimToken, log);
  log(`preloaded in ${loaded.seconds.toFixed(1)} s; no ANALYZE by the bench`);
  const setup = { scimToken, userIds: loaded.userIds, smallGroupId: loaded.smallGroupId, largeGroupId: loaded.largeGroupId };
  log(`  GET /Users?filter=userName eq  ${brief(await runWorkload(url, "get", "idsync", setup, duration))}`);
  log(`  PATCH /Groups small +1         ${brief(await runWorkload(url, "patch-small", "idsync", setup, duration))}`);
  const walk = await walkUsers(url, scimToken);
  log(`  paging: walk by startIndex     ${walk.users} users in ${walk.pages} pages, ${walk.totalSeconds} s; page 1 ${walk.firstPageMs} ms, page ${walk.pageMs.page} ${walk.pageMs.ms} ms; mean of first/last 10 % ${walk.firstTenthMeanMs}/${walk.lastTenthMeanMs} ms${walk.complete ? "" : "; NOT every user once"}`);
} finally {
  closeAgent();
  await stopAllChildren();
  rmSync(dataDir, { recursive: true, force: true });
}
