// The fleet-wide rate limit, in a phase of its own: one SCIM token hammered over every replica with
// many requests in flight (cheap GETs, so the machine can outrun the limit). The burst is spent first,
// then the 2xx answers over the window are counted: accepted per second ÷ the configured rate. About
// 1 means the fleet enforces one limit; about the number of replicas means each enforces its own.
import { request, SCIM_JSON } from "./preload.ts";

export interface RateLimitResult {
  readonly ratio: number;
  readonly acceptedPerSecond: number;
  readonly accepted: number;
  readonly limited: number;
  readonly other: number;
  readonly windowSeconds: number;
  /** How long the burst took to spend, before the window opened. */
  readonly spendSeconds: number;
}

/** Longest the burst may take to spend before the window opens anyway. */
const MAX_SPEND_MS = 30_000;

export async function measureFleetRateLimit(urls: readonly string[], token: string, ratePerSecond: number,
  windowSeconds: number, inFlight = 24): Promise<RateLimitResult> {
  const headers = { Authorization: `Bearer ${token}`, Accept: SCIM_JSON };
  const started = Date.now();
  // the burst is spent once every replica has refused a request (a fleet-wide bucket refuses on all
  // of them at once; per-replica buckets each in turn): only then does the window open
  const refusedBy = new Set<string>();
  let windowFrom = Infinity;
  let windowTo = Infinity;
  const openWindow = () => {
    if (windowFrom !== Infinity) return;
    windowFrom = Date.now();
    windowTo = windowFrom + windowSeconds * 1000;
  };
  let accepted = 0;
  let limited = 0;
  let other = 0;
  let turn = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (Date.now() < windowTo) {
      const url = urls[turn++ % urls.length]!;
      const status = await request("GET", `${url}/scim/v2/Users?count=1`, headers).then((a) => a.status, () => 0);
      // counted by when the answer came: what the fleet let through within the window
      const at = Date.now();
      if (at < windowFrom || at >= windowTo) {
        if (status === 429) refusedBy.add(url);
        if (refusedBy.size === urls.length || at - started >= MAX_SPEND_MS) openWindow();
        continue;
      }
      if (status >= 200 && status < 300) accepted++;
      else if (status === 429) limited++;
      else other++;
    }
  }));
  const acceptedPerSecond = accepted / windowSeconds;
  return {
    ratio: Number((acceptedPerSecond / ratePerSecond).toFixed(3)), acceptedPerSecond, accepted, limited, other, windowSeconds,
    spendSeconds: Number(((windowFrom - started) / 1000).toFixed(1)),
  };
}
