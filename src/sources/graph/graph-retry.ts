// Retries for Graph requests, replacing the SDK's RetryHandler: that one retries only 429/503/504, adds up to a
// second of jitter even after `Retry-After: 0`, and hides the throttle headers. Here 429, 500, 502, 503, 504 and
// network failures are retried; `Retry-After` (seconds or an HTTP date) is obeyed as given, else exponential backoff
// with jitter; every throttle signal is reported so the caller can record it. After the last retry the final
// response goes on to the SDK's error handling (mapped to SourceUnavailableError by graph-errors.ts).
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";

/** How hard to retry; delays in milliseconds. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 };

/** One response that carried throttle information (a 429, or `x-ms-throttle-limit-percentage` on any answer). */
export interface GraphThrottleSignal {
  /** Request path, without the query: `/v1.0/users/delta`. */
  readonly path: string;
  readonly status: number;
  readonly retryAfterSeconds: number | null;
  /** `x-ms-throttle-limit-percentage` (0.8–1.0, present only above 0.8), else null. */
  readonly limitPercentage: number | null;
  readonly scope: string | null;
}

export interface RetryDeps {
  readonly policy: RetryPolicy;
  readonly onThrottle?: (signal: GraphThrottleSignal) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
// Graph asks for at most a few minutes; a longer or absurd value is a broken header, not a plan
const MAX_RETRY_AFTER_MS = 180_000;

function retryAfterMs(headers: Headers, now: number): number | null {
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : null;
}

function requestUrl(context: Context): string {
  return typeof context.request === "string" ? context.request : context.request.url;
}

/** Graph middleware retrying throttled and failed requests; place it after AuthenticationHandler. */
export class GraphRetry implements Middleware {
  private next: Middleware | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly deps: RetryDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = deps.random ?? Math.random;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const { policy } = this.deps;
    for (let attempt = 0; ; attempt += 1) {
      let failure: unknown = null;
      context.response = undefined;
      try {
        await this.next!.execute(context);
      } catch (error) {
        failure = error; // fetch rejects only for network and TLS failures
      }
      const response = context.response as Response | undefined;
      if (response) this.report(context, response);
      const retryable = failure !== null || (response !== undefined && RETRYABLE.has(response.status));
      if (!retryable) return;
      if (attempt >= policy.maxRetries) {
        if (failure !== null) throw failure;
        return;
      }
      const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      const delay = (response && retryAfterMs(response.headers, Date.now())) ?? Math.round(exponential * (0.5 + 0.5 * this.random()));
      if (response) await response.arrayBuffer().catch(() => undefined); // frees the connection for the retry
      await this.sleep(delay);
      setRetryAttempt(context, attempt + 1);
    }
  }

  private report(context: Context, response: Response): void {
    const limit = response.headers.get("x-ms-throttle-limit-percentage");
    if (!this.deps.onThrottle || (response.status !== 429 && limit === null)) return;
    const retryAfter = retryAfterMs(response.headers, Date.now());
    this.deps.onThrottle({
      path: new URL(requestUrl(context)).pathname,
      status: response.status,
      retryAfterSeconds: retryAfter === null ? null : retryAfter / 1000,
      limitPercentage: limit === null || Number.isNaN(Number(limit)) ? null : Number(limit),
      scope: response.headers.get("x-ms-throttle-scope"),
    });
  }
}

function setRetryAttempt(context: Context, attempt: number): void {
  const options = (context.options ??= {});
  const headers = (options.headers ?? {}) as Record<string, string>;
  options.headers = { ...headers, "Retry-Attempt": String(attempt) };
}
