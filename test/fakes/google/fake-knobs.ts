// Fault injection and quota for the Google fake: a queue of scripted answers per path pattern, and a
// token bucket per subject that answers 403 usageLimits when empty, like Google's per-user quota.
import {
  backendError, quotaExceeded403, quotaPerMinuteExceeded403, rateLimitExceeded429, userRateLimitExceeded403, type FakeErrorResponse,
} from "./google-error-bodies.ts";

/**
 * One scripted answer. Error kinds answer instead of the endpoint; `missingKey` drops the collection
 * key from a 200 (keeping `nextPageToken`); `truncatedChain` answers normally but with a
 * `nextPageToken` the next call rejects (400, or 404 for `truncatedChain404`); `emptyPage` answers a
 * 200 with no collection and no `nextPageToken`; `loopingChain` hands out a `nextPageToken` that
 * leads back to itself forever; `pass` answers normally (to aim a fault at a later page);
 * `connectionReset` closes the connection without any answer (a load balancer dropping it mid-request).
 */
export type GoogleFault =
  | "rateLimit429" | "userRateLimit403" | "quotaPerMinute403" | "quotaExceeded403" | "error500" | "error502" | "error503"
  | "missingKey" | "truncatedChain" | "truncatedChain404" | "emptyPage" | "loopingChain" | "pass" | "connectionReset"
  | { readonly status: number; readonly body?: unknown; readonly retryAfterSeconds?: number };

export interface QuotaKnob {
  readonly perMinute: number;
  /** Largest burst; one second's worth by default. */
  readonly burst?: number;
  /** Clock for the bucket (a test's virtual clock); `Date.now` by default. */
  readonly now?: () => number;
}

export interface GoogleFakeKnobs {
  /** Added to every answer. */
  latencyMs: number;
  /** Per-subject queries-per-minute bucket; off when null. */
  quota: QuotaKnob | null;
  /** Scopes granted to the service account's client id by domain-wide delegation. */
  delegatedScopes: string[];
  /** The service account holds an admin role itself (calls without `sub`). */
  serviceAccountIsAdmin: boolean;
  /** The next answers to paths matching `pattern` (a path suffix such as `users` or `members`, or a RegExp). */
  fail(pattern: string | RegExp, ...faults: GoogleFault[]): void;
  /** Every access token issued so far is refused from now on (401 authError). */
  revokeTokens(): void;
  /** Runs before each Directory API request is answered (to change the directory mid-pull). */
  onRequest: ((path: string, query: URLSearchParams) => void) | null;
  /** Forgets scripted faults not yet used. */
  clearFaults(): void;
}

export class FaultQueue {
  private readonly queues: Array<{ pattern: string | RegExp; faults: GoogleFault[] }> = [];

  add(pattern: string | RegExp, faults: GoogleFault[]): void {
    this.queues.push({ pattern, faults: [...faults] });
  }

  clear(): void {
    this.queues.length = 0;
  }

  /** Takes the next scripted answer for this path, if any. */
  next(pathname: string): GoogleFault | undefined {
    for (const queue of this.queues) {
      const hit = typeof queue.pattern === "string"
        ? pathname === queue.pattern || pathname.endsWith(`/${queue.pattern.replace(/^\//, "")}`)
        : queue.pattern.test(pathname);
      if (hit && queue.faults.length > 0) return queue.faults.shift();
    }
    return undefined;
  }
}

/** The error answer a fault stands for, or null for the faults that shape a 200. */
export function faultResponse(fault: GoogleFault): FakeErrorResponse | null {
  if (typeof fault === "object") {
    return { status: fault.status, body: fault.body ?? { error: { code: fault.status, message: "Injected", errors: [] } },
      headers: fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {} };
  }
  switch (fault) {
    case "rateLimit429": return rateLimitExceeded429();
    case "userRateLimit403": return userRateLimitExceeded403();
    case "quotaPerMinute403": return quotaPerMinuteExceeded403();
    case "quotaExceeded403": return quotaExceeded403();
    case "error500": return backendError(500);
    case "error502": return backendError(502);
    case "error503": return backendError(503);
    default: return null;
  }
}

/** Per-subject token buckets; `take` is false when the subject is over quota. */
export class SubjectQuota {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  rejected = 0;

  take(knob: QuotaKnob, subject: string): boolean {
    const now = (knob.now ?? Date.now)();
    const rate = knob.perMinute / 60_000;
    const burst = knob.burst ?? Math.max(1, knob.perMinute / 60);
    const bucket = this.buckets.get(subject) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.set(subject, bucket);
    if (bucket.tokens < 1) {
      this.rejected += 1;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }
}
