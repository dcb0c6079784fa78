// Throttling and outages are retried (429, 5xx, 403 only with domain usageLimits) and cost exactly
// the calls they took; what outlasts the retries, what only an admin can fix, and any answer that is
// not whole (missing collection, broken or looping page chain) stops the pull with nothing handed over.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { fullPull } from "../../../src/sources/google/full-pull.ts";
import { IncompletePullError, SourceConfigError, SourceUnavailableError } from "../../../src/sources/pull-errors.ts";
import { notAuthorized, rateLimitExceeded429 } from "../../fakes/google/google-error-bodies.ts";
import type { GoogleFake } from "../../fakes/google/google-fake.ts";
import { buildSampleDirectory } from "../../fakes/google/sample-directory.ts";
import { connectionFor, startFake, testDeps, virtualClock } from "./google-test-kit.ts";

let fake: GoogleFake;
// 600 users → 2 users pages; 4 groups; 4 + 1 + 1 + 2 = 8 calls without faults
const BASELINE = 8;

beforeEach(async () => {
  fake = await startFake(buildSampleDirectory({ users: 600, groups: 4, memberships: 60, seed: 3 }));
});

afterEach(async () => {
  await fake.close();
});

describe("retried", () => {
  test("the baseline costs the minimum", async () => {
    expect((await fullPull(connectionFor(fake), testDeps())).calls).toBe(BASELINE);
  });

  test("a 429 storm on users.list is retried, then the pull completes; every attempt counted", async () => {
    fake.knobs.fail("users", "rateLimit429", "rateLimit429", "rateLimit429");
    const pull = await fullPull(connectionFor(fake), testDeps());
    expect(pull.users.length).toBeGreaterThan(500);
    expect(pull.calls).toBe(BASELINE + 3);
    expect(pull.calls).toBe(fake.calls.api);
  });

  test("403 usageLimits (userRateLimitExceeded, per-minute quota, quotaExceeded) on members.list is retried", async () => {
    fake.knobs.fail(/\/members$/, "userRateLimit403", "quotaPerMinute403", "quotaExceeded403");
    const pull = await fullPull(connectionFor(fake), testDeps());
    expect(pull.calls).toBe(BASELINE + 3);
    expect(fake.requests.filter((r) => r.status === 403)).toHaveLength(3);
  });

  test("500 and 503 are retried", async () => {
    fake.knobs.fail("groups", "error500", "error503");
    expect((await fullPull(connectionFor(fake), testDeps())).calls).toBe(BASELINE + 2);
  });

  test("a connection dropped without an answer is retried, by Node's fetch and by node-fetch (kept when a proxy is set)", async () => {
    // Node's fetch fails as TypeError "fetch failed" with the socket error as its cause, node-fetch as
    // FetchError ECONNRESET: both are network failures, retried. With HTTPS_PROXY set the client keeps
    // gaxios' node-fetch, which carries the proxy; NO_PROXY lets this request reach the fake directly.
    for (const proxied of [false, true]) {
      const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
      if (proxied) Object.assign(process.env, { HTTPS_PROXY: "http://proxy.invalid:3128", NO_PROXY: "127.0.0.1" });
      try {
        fake.knobs.fail("users", "connectionReset", "connectionReset");
        const before = fake.calls.api;
        const seen = fake.requests.length;
        const pull = await fullPull(connectionFor(fake), testDeps());
        expect(pull.users.length).toBeGreaterThan(0);
        expect(fake.calls.api - before).toBe(BASELINE + 2);
        // which client made the calls: Node's fetch (undici) sends Sec-Fetch-Mode on every request, node-fetch never does
        const clients = new Set(fake.requests.slice(seen).map((r) => (r.headers["sec-fetch-mode"] ? "Node's fetch" : "node-fetch")));
        expect([...clients]).toEqual([proxied ? "node-fetch" : "Node's fetch"]);
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    }
  });

  test("Retry-After is waited out instead of the backoff", async () => {
    const clock = virtualClock();
    fake.knobs.fail("groups", { ...rateLimitExceeded429(), retryAfterSeconds: 7 });
    await fullPull(connectionFor(fake), testDeps({ clock }));
    expect(clock.sleeps).toContain(7000);
  });

  test("backoff doubles with jitter between attempts", async () => {
    const clock = virtualClock();
    fake.knobs.fail("groups", "error503", "error503", "error503");
    await fullPull(connectionFor(fake), testDeps({ clock, retry: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 10_000 }, random: () => 0.5 }));
    expect(clock.sleeps).toEqual([150, 250, 450]);
  });
});

describe("gives up", () => {
  test("outlasting every retry is SourceUnavailableError with the calls made, and no result", async () => {
    fake.knobs.fail("users", "error503", "error503", "error503", "error503", "error503", "error503");
    const error = await fullPull(connectionFor(fake), testDeps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error).toMatchObject({ status: 503, calls: 5 });
    expect(fake.calls.api).toBe(5);
  });

  test("a usageLimits storm that never ends is SourceUnavailableError too", async () => {
    fake.knobs.fail(/\/members$/, ...Array<"userRateLimit403">(40).fill("userRateLimit403"));
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toMatchObject({ name: "SourceUnavailableError", status: 403 });
  });

  test("a plain 403 is not retried: SourceConfigError saying the subject must be an admin", async () => {
    fake.knobs.fail("users", notAuthorized());
    const error = await fullPull(connectionFor(fake), testDeps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceConfigError);
    expect((error as SourceConfigError).fix).toMatch(/admin@example.com must be an admin with Directory read privileges/);
    expect(fake.calls.api).toBe(1);
  });

  test("an unknown customer is SourceConfigError naming customerId", async () => {
    const error = await fullPull(connectionFor(fake, { customerId: "C0nothere" }), testDeps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceConfigError);
    expect(error).toMatchObject({ status: 404 });
    expect((error as SourceConfigError).fix).toMatch(/check customerId \(C0nothere\)/);
  });
});

describe("incomplete answers", () => {
  test("a later users page without its `users` key", async () => {
    fake.knobs.fail("users", "pass", "missingKey");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toBeInstanceOf(IncompletePullError);
  });

  test("a first page without `users` that still promises more", async () => {
    fake.knobs.fail("users", "missingKey");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/promising more had no "users"/);
  });

  test("a nextPageToken the next call rejects with 400 (users) or 404 (members)", async () => {
    fake.knobs.fail("groups", "truncatedChain");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(IncompletePullError);
    fake.knobs.clearFaults();
    fake.knobs.fail(/\/members$/, "truncatedChain404");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/page chain broke \(404/);
  });

  test("a members answer without its `members` key, for a group Google counts members in, is not an empty group", async () => {
    fake.knobs.fail(/\/members$/, "missingKey");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/counts \d+ direct members but listed none/);
    fake.knobs.clearFaults();
    fake.knobs.fail(/\/members$/, "emptyPage");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/counts \d+ direct members but listed none/);
  });

  test("a page chain that loops", async () => {
    fake.knobs.fail(/\/members$/, "loopingChain");
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/nextPageToken repeated/);
  });

  test("a group deleted between groups.list and members.list", async () => {
    const group = fake.directory.groups[2]!;
    fake.knobs.onRequest = (path) => {
      if (path.endsWith("/members") && fake.directory.groups.includes(group)) fake.directory.groups.splice(fake.directory.groups.indexOf(group), 1);
    };
    await expect(fullPull(connectionFor(fake), testDeps())).rejects.toThrow(/disappeared while the pull read it/);
  });

  test("an empty first users page is legitimate: handed over empty for the drop check to judge", async () => {
    fake.knobs.fail("users", "emptyPage");
    const pull = await fullPull(connectionFor(fake), testDeps());
    expect(pull.users).toEqual([]);
    expect(pull.memberships.filter((m) => m.memberType === "User")).toEqual([]);
  });
});
