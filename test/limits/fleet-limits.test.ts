// Limits hold across the fleet: three replicas of idsync (each its own app, server and connection
// pool, as three `idsync serve` processes would be) on one database. On PostgreSQL the pools are
// separate; on the embedded PGlite, which has one session, they share it, and the same SQL runs.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import knexFactory from "knex";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Knex } from "knex";
import { loadSettings } from "../../src/config/settings.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createApp } from "../../src/http/app.ts";
import { createHttpServer } from "../../src/http/http-server.ts";
import { createAccount } from "../../src/accounts/accounts.ts";
import { createScimConnection } from "../../src/accounts/connections.ts";
import { DEFAULT_AUTH_THROTTLE } from "../../src/accounts/auth-throttle.ts";
import { PostgresBucketStore } from "../../src/limits/postgres-bucket-store.ts";
import { LeasedBuckets } from "../../src/limits/leased-buckets.ts";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";

// low enough that three replicas on a loaded test machine still ask for more than the rate
const RATE = { ratePerSecond: 5, burst: 10 };
const REPLICAS = 3;

let db: TestDatabase;
let replicas: Array<{ url: string; close(): Promise<void> }>;

async function startReplica(knex: Knex): Promise<{ url: string; close(): Promise<void> }> {
  const settings = loadSettings({ LOG_LEVEL: "silent", IDSYNC_SCIM_RATE_LIMIT: String(RATE.ratePerSecond), IDSYNC_SCIM_RATE_BURST: String(RATE.burst) });
  const server = createHttpServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // no limitStore given: the default, the database's limit_buckets, as on PostgreSQL in production
  server.on("request", createApp({ db: knex, log: createLogger("silent"), settings, publicUrl: url }));
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  db = await openTestDatabase();
  replicas = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => startReplica(i === 0 ? db.knex : db.anotherPool())));
});
afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await db?.close();
});

const leasesOf = async (key: string): Promise<number> =>
  Number(((await db.knex.raw(`select leases from limit_buckets where key = ?`, [key])).rows[0] as { leases: string } | undefined)?.leases ?? 0);

describe("the PostgreSQL store", () => {
  test("leases from three pools at once never grant more than the bucket holds", async () => {
    const stores = [db.knex, db.anotherPool(), db.anotherPool()].map((pool) => new PostgresBucketStore(pool));
    const limit = { ratePerSecond: 0.001, burst: 20 }; // no whole token refills during the test
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3]!.lease("store-test", { ask: 1 + (i % 3), must: 0, giveBack: 0 }, limit)));
    expect(results.reduce((sum, r) => sum + r.granted, 0)).toBe(20);
    expect(results.every((r) => Number.isInteger(r.granted) && r.granted >= 0)).toBe(true);
    expect(await leasesOf("store-test")).toBe(30);
    // a charge past the budget leaves a debt, and a give-back pays into the bucket before it grants
    expect(await stores[0]!.lease("store-test", { ask: 1, must: 1, giveBack: 0 }, limit)).toMatchObject({ granted: 1 });
    const repaid = await stores[1]!.lease("store-test", { ask: 1, must: 0, giveBack: 2 }, limit);
    expect(repaid.granted).toBe(1);
    expect(repaid.remaining).toBeCloseTo(0, 2);
  });

  test("a sweep forgets the buckets that are full again, and only those", async () => {
    const store = new PostgresBucketStore(db.knex);
    await store.lease("sweep-fast", { ask: 1, must: 0, giveBack: 0 }, { ratePerSecond: 1_000, burst: 1 }); // full again after 1 ms
    await store.lease("sweep-slow", { ask: 1, must: 0, giveBack: 0 }, { ratePerSecond: 0.001, burst: 1 }); // after 1,000 s
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    const keys = (await db.knex.raw(`select key from limit_buckets where key like 'sweep-%'`)).rows.map((r: { key: string }) => r.key);
    expect(keys).toEqual(["sweep-slow"]);
  });
});

describe(`${REPLICAS} replicas on one database`, () => {
  test("together they accept one SCIM token's burst and rate, not three times it", async () => {
    await createAccount(db.knex, { slug: "fleet", domains: ["fleet.example.com"], ownerEmail: "owner@fleet.example.com" }, "test");
    const issued = await createScimConnection(db.knex, "fleet", undefined, "test");
    const headers = { authorization: `Bearer ${issued.token}`, accept: "application/scim+json" };
    const durationMs = 3_000;
    const started = Date.now();
    const accepted: number[] = [];
    const statuses = new Map<number, number>();
    // three clients per replica, each sending its next request as soon as the last is answered
    await Promise.all(replicas.flatMap((replica) => Array.from({ length: 3 }, async () => {
      while (Date.now() - started < durationMs) {
        const response = await fetch(`${replica.url}/scim/v2/Users?count=1`, { headers });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200) accepted.push(Date.now() - started);
        else expect(response.status).toBe(429);
      }
    })));
    const elapsedSeconds = (Date.now() - started) / 1000;
    // every token spent anywhere came out of the one bucket, full at the start: burst + rate × elapsed
    expect(accepted.length).toBeLessThanOrEqual(RATE.burst + RATE.ratePerSecond * elapsedSeconds);
    expect(accepted.length).toBeGreaterThanOrEqual(RATE.burst);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    // what the fleet accepted beyond the burst, over what the rate allows in the time: at most 1
    const beyondBurst = (accepted.length - RATE.burst) / (RATE.ratePerSecond * elapsedSeconds);
    const leasesPerReplicaSecond = (await leasesOf(`scim-token:${issued.tokenId}`)) / REPLICAS / elapsedSeconds;
    console.log(`LIMITS fleet (${db.kind}): requests=${[...statuses.values()].reduce((a, b) => a + b, 0)} accepted=${accepted.length} ` +
      `bound=${(RATE.burst + RATE.ratePerSecond * elapsedSeconds).toFixed(0)} beyond_burst_ratio=${beyondBurst.toFixed(3)} leases/replica/s=${leasesPerReplicaSecond.toFixed(2)}`);
  });

  for (const [api, path, type] of [["SCIM", "/scim/v2/Users", /^application\/scim\+json/], ["admin API", "/admin/v1/accounts", /^application\/problem\+json/]] as const) {
    test(`together they allow one client the failed-authentication burst on the ${api}, not three times it`, async () => {
      const { burst, refillPerSecond } = DEFAULT_AUTH_THROTTLE;
      const started = Date.now();
      const answers: number[][] = replicas.map(() => []);
      for (let i = 0; i < REPLICAS * burst + 3 * REPLICAS; i++) {
        const response = await fetch(`${replicas[i % REPLICAS]!.url}${path}`, { headers: { authorization: `Bearer wrong-${i}` } });
        await response.arrayBuffer();
        expect(response.headers.get("content-type")).toMatch(type);
        if (response.status === 429) expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        else expect(response.status).toBe(401);
        answers[i % REPLICAS]!.push(response.status);
      }
      const elapsedSeconds = (Date.now() - started) / 1000;
      const failures = answers.flat().filter((s) => s === 401).length;
      expect(failures).toBeGreaterThanOrEqual(burst);
      // the burst and what refilled meanwhile: a replica asks the bucket before letting a failing client try again
      expect(failures).toBeLessThanOrEqual(burst + Math.floor(refillPerSecond * elapsedSeconds));
      for (const statuses of answers) expect(statuses).toContain(429);
      console.log(`LIMITS failed auth on the ${api} (${db.kind}): ${failures} failures allowed across ${REPLICAS} replicas in ${elapsedSeconds.toFixed(2)} s (burst ${burst})`);
    });
  }
});

describe("when the limit store cannot answer", () => {
  test("the replica falls back to its own bucket (fail open to the per-replica limit) and says so", async () => {
    // nothing listens on port 1: every lease fails
    const unreachable = knexFactory({ client: "pg", connection: "postgres://postgres@127.0.0.1:1/none", pool: { min: 0, max: 1 }, acquireConnectionTimeout: 300, log: { warn: () => undefined } });
    const downs: unknown[] = [];
    const limiter = new LeasedBuckets({ limit: { ratePerSecond: 0.001, burst: 3 }, store: new PostgresBucketStore(unreachable), name: "down", onStoreDown: (e) => downs.push(e) });
    try {
      const waits = [];
      for (let i = 0; i < 5; i++) waits.push(await limiter.take("k"));
      expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
      expect(waits[3]).toBeGreaterThanOrEqual(1);
      expect(waits[4]).toBeGreaterThanOrEqual(1);
      expect(downs.length).toBeGreaterThanOrEqual(1);
    } finally {
      await unreachable.destroy();
    }
  });
});
