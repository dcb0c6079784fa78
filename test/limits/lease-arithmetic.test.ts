// The lease arithmetic and the replica engine, pure: an injected clock, the in-process store, and
// simulated replicas sharing it. The bounds proved here are the ones the PostgreSQL store is held to
// in fleet-limits.test.ts.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { leaseFromBucket, refilled } from "../../src/limits/token-bucket.ts";
import { MemoryBucketStore } from "../../src/limits/bucket-store.ts";
import { LeasedBuckets } from "../../src/limits/leased-buckets.ts";

const LIMIT = { ratePerSecond: 2, burst: 5 };
const lease = (ask: number, must = 0, giveBack = 0) => ({ ask, must, giveBack });

describe("one lease from a bucket", () => {
  test("a bucket never leased is full; a lease takes whole tokens, at most what it holds", () => {
    const first = leaseFromBucket(undefined, lease(3), 0, LIMIT);
    expect(first.result).toEqual({ granted: 3, remaining: 2 });
    const second = leaseFromBucket(first.row, lease(3), 0, LIMIT);
    expect(second.result).toEqual({ granted: 2, remaining: 0 });
    expect(leaseFromBucket(second.row, lease(3), 400, LIMIT).result.granted).toBe(0); // 0.8 tokens refilled
  });

  test("it refills by elapsed time at the rate, capped at the burst, and a give-back is capped too", () => {
    const empty = { tokens: 0, at: 1_000 };
    expect(refilled(empty, 2_000, LIMIT)).toBe(2);
    expect(refilled(empty, 60_000, LIMIT)).toBe(5);
    expect(leaseFromBucket({ tokens: 4, at: 0 }, lease(1, 0, 3), 0, LIMIT).result).toEqual({ granted: 1, remaining: 4 });
  });

  test("a must-grant leaves the bucket in debt, which the refill pays off before anything is granted", () => {
    const debt = leaseFromBucket({ tokens: 0.5, at: 0 }, lease(1, 1), 0, LIMIT);
    expect(debt.result).toEqual({ granted: 1, remaining: -0.5 });
    expect(leaseFromBucket(debt.row, lease(1), 500, LIMIT).result.granted).toBe(0); // 0.5 tokens
    expect(leaseFromBucket(debt.row, lease(1), 750, LIMIT).result.granted).toBe(1); // 1.0
  });

  test("a clock that runs backwards refills nothing and moves the row's time back never", () => {
    const { row, result } = leaseFromBucket({ tokens: 1, at: 5_000 }, lease(1), 4_000, LIMIT);
    expect(result).toEqual({ granted: 1, remaining: 0 });
    expect(row.at).toBe(5_000);
  });
});

/** `replicas` engines on one store and one clock, as a fleet on one database. */
function fleet(replicas: number, limit: { ratePerSecond: number; burst: number }) {
  const clock = { now: 0 };
  const store = new MemoryBucketStore(() => clock.now);
  const engines = Array.from({ length: replicas }, () => new LeasedBuckets({ limit, store, name: "t", now: () => clock.now }));
  return { clock, store, engines };
}

describe("a replica's allowance", () => {
  test("alone, it allows the burst and then the rate, answering with the whole seconds to wait", async () => {
    const { clock, engines: [one] } = fleet(1, { ratePerSecond: 1, burst: 3 });
    expect(await Promise.all([one!.take("k"), one!.take("k"), one!.take("k")])).toEqual([0, 0, 0]);
    expect(await one!.take("k")).toBe(1);
    clock.now = 1_000;
    expect(await one!.take("k")).toBe(0);
    expect(await one!.take("k")).toBe(1);
    expect(await one!.take("other")).toBe(0); // keys are independent
  });

  test("requests served from the allowance lease nothing: at a steady 25 rps about one lease a second", async () => {
    const { clock, store, engines: [one] } = fleet(1, { ratePerSecond: 100, burst: 1_000 });
    for (let ms = 0; ms < 10_000; ms += 40) {
      clock.now = ms;
      expect(await one!.take("entra")).toBe(0);
    }
    // 250 requests; the first second ramps up (1, 2, 4, … tokens), then one lease per second
    expect(store.leasesTaken).toBeLessThanOrEqual(10 + 8);
  });

  test("three replicas sharing 90 % of the limit evenly refuse nothing, at about one lease a second each", async () => {
    const { clock, store, engines } = fleet(3, { ratePerSecond: 100, burst: 1_000 });
    let refused = 0;
    for (let i = 0; i < 90 * 30; i++) {
      clock.now = Math.round(i * (1000 / 90));
      if ((await engines[i % 3]!.take("k")) !== 0) refused++;
    }
    expect(refused).toBe(0);
    expect(store.leasesTaken / 3 / 30).toBeLessThanOrEqual(1.5);
  });

  test("a hundred requests at once on a cold key are all served from the burst, in a few leases", async () => {
    const { store, engines: [one] } = fleet(1, { ratePerSecond: 100, burst: 1_000 });
    const waits = await Promise.all(Array.from({ length: 100 }, () => one!.take("okta-push")));
    expect(waits.every((w) => w === 0)).toBe(true);
    expect(store.leasesTaken).toBeLessThanOrEqual(3);
  });

  test("three replicas hammering one key accept the rate, not three times it, with a couple of leases a second each", async () => {
    const limit = { ratePerSecond: 100, burst: 1_000 };
    const { clock, store, engines } = fleet(3, limit);
    const acceptedAt: number[] = [];
    for (let ms = 0; ms < 30_000; ms += 5) {
      clock.now = ms;
      for (const engine of engines) for (let i = 0; i < 3; i++) if ((await engine.take("hot")) === 0) acceptedAt.push(ms);
    }
    // the burst is spent within the first 2 s; the 10 s from 20 s on are steady state
    const steady = acceptedAt.filter((t) => t >= 20_000).length;
    const ratio = steady / (limit.ratePerSecond * 10);
    expect(ratio).toBeLessThanOrEqual(1.1);
    expect(ratio).toBeGreaterThan(0.9); // the fleet is not starved either
    expect(acceptedAt.length).toBeLessThanOrEqual(limit.burst + limit.ratePerSecond * 30);
    const leasesPerReplicaSecond = store.leasesTaken / 3 / 30;
    expect(leasesPerReplicaSecond).toBeLessThanOrEqual(3);
    console.log(`LIMITS simulated: 3 replicas over one key, steady ratio=${ratio.toFixed(3)} leases/replica/s=${leasesPerReplicaSecond.toFixed(2)}`);
  });
});

// any interleaving: replicas take concurrently in batches while the clock moves in uneven steps
const step = (replicas: number) => fc.oneof(
  fc.record({ advance: fc.integer({ min: 0, max: 1_500 }) }),
  fc.record({ replica: fc.integer({ min: 0, max: replicas - 1 }), count: fc.integer({ min: 1, max: 30 }) }),
);
const scenario = fc.record({ replicas: fc.integer({ min: 1, max: 5 }), rate: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 100 }) })
  .chain((s) => fc.record({ ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, fc.constant(v)])), steps: fc.array(step(s.replicas), { maxLength: 60 }) })) as
  fc.Arbitrary<{ replicas: number; rate: number; burst: number; steps: Array<{ advance: number } | { replica: number; count: number }> }>;

describe("the fleet's bound, over any interleaving of replicas sharing one bucket", () => {
  test("requests accepted ≤ burst + rate × elapsed", async () => {
    await fc.assert(fc.asyncProperty(scenario, async ({ replicas, rate, burst, steps }) => {
      const { clock, engines } = fleet(replicas, { ratePerSecond: rate, burst });
      let accepted = 0;
      for (const s of steps) {
        if ("advance" in s) clock.now += s.advance;
        else accepted += (await Promise.all(Array.from({ length: s.count }, () => engines[s.replica]!.take("k")))).filter((w) => w === 0).length;
        expect(accepted).toBeLessThanOrEqual(burst + (rate * clock.now) / 1000 + 1e-9);
      }
    }), { numRuns: 300 });
  });

  test("failed authentications let through ≤ burst + rate × elapsed + one per replica (each replica's first unknowing attempt is charged as debt)", async () => {
    await fc.assert(fc.asyncProperty(scenario, async ({ replicas, rate, burst, steps }) => {
      const { clock, engines } = fleet(replicas, { ratePerSecond: rate, burst });
      let failures = 0;
      for (const s of steps) {
        if ("advance" in s) clock.now += s.advance;
        else {
          for (let i = 0; i < s.count; i++) {
            const engine = engines[s.replica]!;
            if ((await engine.retryAfter("client")) > 0) continue;
            failures++;
            await engine.charge("client");
          }
        }
        expect(failures).toBeLessThanOrEqual(burst + (rate * clock.now) / 1000 + replicas + 1e-9);
      }
    }), { numRuns: 300 });
  });
});
