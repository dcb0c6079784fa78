// Every Directory API request of a pull goes through here: it waits for the request budget, counts
// the HTTP call (a gaxios adapter sees each real request, so the count is exact), retries throttling
// and outages with exponential backoff and jitter (honouring Retry-After), and turns what is left
// into the pull errors. gaxios' own retry is off: it ignores Retry-After and never retries 403.
import type { MethodOptions } from "@googleapis/admin";
import { IncompletePullError, SourceUnavailableError } from "../pull-errors.ts";
import { classifyFailure, configErrorFor, type FailureContext } from "./directory-errors.ts";
import type { PullClock, RequestBudget } from "./request-budget.ts";

/** How hard to retry; delays in milliseconds. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1_000, maxDelayMs: 32_000 };

/** What a request is, for error messages and for reading a 400/404. */
export interface RequestLabel {
  /** `users.list`, `members.list 03x8tuzt1k8xgxc`… */
  readonly what: string;
  /** Set when following a nextPageToken: a 400/404 then means the page chain broke. */
  readonly pageToken?: string | undefined;
}

export class DirectoryRequests {
  /** HTTP requests made to the Directory API, retries included (token requests are not counted). */
  calls = 0;
  private readonly options: MethodOptions;

  constructor(
    private readonly budget: RequestBudget,
    private readonly policy: RetryPolicy,
    private readonly clock: PullClock,
    private readonly random: () => number,
    private readonly context: FailureContext,
    private readonly onThrottle?: (status: number | null) => void,
  ) {
    this.options = {
      retry: false,
      adapter: (options, defaultAdapter) => {
        this.calls += 1;
        return defaultAdapter(options);
      },
    };
  }

  /** One API call with retries; refusals become SourceConfigError (or IncompletePullError mid-chain). */
  async send<T>(label: RequestLabel, call: (options: MethodOptions) => Promise<{ data: T }>): Promise<T> {
    const answer = await this.attempt(label, call);
    if (answer.ok) return answer.data;
    throw answer.error;
  }

  /**
   * Like send, but the API refusing with one of `absent` (404 for a group that is gone, 403 for one
   * of another organisation) resolves to null instead of failing the pull.
   */
  async sendOrNull<T>(label: RequestLabel, call: (options: MethodOptions) => Promise<{ data: T }>, absent: readonly number[]): Promise<T | null> {
    const answer = await this.attempt(label, call);
    if (answer.ok) return answer.data;
    if (answer.refusedByApi && answer.status !== null && absent.includes(answer.status)) return null;
    throw answer.error;
  }

  private async attempt<T>(label: RequestLabel, call: (options: MethodOptions) => Promise<{ data: T }>):
    Promise<{ ok: true; data: T } | { ok: false; status: number | null; refusedByApi: boolean; error: Error }> {
    for (let retry = 0; ; retry += 1) {
      await this.budget.take();
      try {
        return { ok: true, data: (await call(this.options)).data };
      } catch (error) {
        const failure = classifyFailure(error, this.clock.now());
        if (failure.kind === "unknown") throw error;
        if (failure.kind === "retry") {
          if (failure.status === 429 || failure.status === 403) this.onThrottle?.(failure.status);
          if (retry >= this.policy.maxRetries) {
            return { ok: false, status: failure.status, refusedByApi: false, error: new SourceUnavailableError(
              `${label.what} still failing after ${retry + 1} attempts: ${failure.status ?? "no response"} ${failure.reason}`, failure.status, this.calls) };
          }
          await this.clock.sleep(failure.retryAfterMs ?? this.backoff(retry));
          continue;
        }
        if (label.pageToken && !failure.fromTokenEndpoint && (failure.status === 400 || failure.status === 404)) {
          return { ok: false, status: failure.status, refusedByApi: false, error: new IncompletePullError(
            `${label.what}: the page chain broke (${failure.status} ${failure.message} on a nextPageToken the previous page gave)`) };
        }
        return { ok: false, status: failure.status, refusedByApi: !failure.fromTokenEndpoint, error: configErrorFor(failure, label.what, this.context) };
      }
    }
  }

  private backoff(retry: number): number {
    return Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** retry + this.random() * this.policy.baseDelayMs);
  }
}
