// The client-side budget keeps a pull under Google's per-user quota: against a fake enforcing that
// quota (on the same virtual clock, so no wall time passes) a budgeted pull never meets a 403
// usageLimits, while an unbudgeted one runs into them and pays for it in retries.
import { describe, expect, test } from "vitest";
import { fullPull } from "../../../src/sources/google/full-pull.ts";
import { RequestBudget } from "../../../src/sources/google/request-budget.ts";
import { buildSampleDirectory } from "../../fakes/google/sample-directory.ts";
import { connectionFor, startFake, testDeps, virtualClock } from "./google-test-kit.ts";

const QUOTA = 600; // the fake's queries per minute per subject: 10 a second
const SLOW_RETRY = { maxRetries: 8, baseDelayMs: 1_000, maxDelayMs: 8_000 };

async function pullAgainstQuota(clientPerMinute: number) {
  const clock = virtualClock();
  const fake = await startFake(buildSampleDirectory({ users: 100, groups: 40, memberships: 200, seed: 5 }), { quota: { perMinute: QUOTA, now: clock.now } });
  try {
    const budget = new RequestBudget(clientPerMinute, clock);
    const pull = await fullPull(connectionFor(fake, { quotaPerMinute: clientPerMinute }), testDeps({ clock, budget, retry: SLOW_RETRY }));
    return { pull, budget, rejected: fake.quotaRejections(), statuses: fake.requests.map((r) => r.status), apiCalls: fake.calls.api };
  } finally {
    await fake.close();
  }
}

describe("request budget", () => {
  test("at 80 % of the quota no request is refused and none is repeated", async () => {
    const { pull, budget, rejected, statuses, apiCalls } = await pullAgainstQuota(QUOTA * 0.8);
    // 1 users + 1 deleted + 1 groups + 40 members pages
    expect(pull.calls).toBe(43);
    expect(apiCalls).toBe(43);
    expect(rejected).toBe(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // burst of 8, then every request waited for the bucket
    expect(budget.waited).toBe(43 - 8);
  });

  test("without a real budget the same pull meets 403 usageLimits and pays in retries", async () => {
    const { pull, rejected, statuses, apiCalls } = await pullAgainstQuota(1_000_000);
    expect(rejected).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 403)).toHaveLength(rejected);
    expect(pull.calls).toBe(43 + rejected);
    expect(apiCalls).toBe(pull.calls);
  });

  test("waits queue in order of arrival: concurrent takers are spaced one refill apart", async () => {
    const clock = virtualClock(0);
    const budget = new RequestBudget(60, clock, 1); // one a second, burst 1
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map(async (i) => {
      await budget.take();
      order.push(i);
    }));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock.sleeps).toEqual([1000, 2000, 3000]);
    expect(budget.waited).toBe(3);
  });
});
