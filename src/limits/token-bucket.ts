// The arithmetic of one shared token bucket, as plain functions: a bucket refills by elapsed time at
// `ratePerSecond` up to `burst`, and a lease moves whole tokens from it to one replica. The embedded
// store runs these functions; the PostgreSQL store runs the same arithmetic as one SQL statement
// (postgres-bucket-store.ts), and the tests hold both to the same bounds.

/** A limit: tokens refilled per second, and the most a bucket holds. */
export interface BucketLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** A bucket as stored: `tokens` as of `at` (epoch ms). Negative tokens are a debt (see LeaseRequest.must). */
export interface BucketRow {
  readonly tokens: number;
  readonly at: number;
}

/** What a replica asks of a bucket in one lease. */
export interface LeaseRequest {
  /** Tokens wanted (whole, ≥ 1). Granted in full only if the bucket holds them. */
  readonly ask: number;
  /**
   * Tokens granted even from an empty bucket, leaving it in debt (0 or 1): for charging something
   * that already happened, such as a failed authentication by a client this replica had not seen fail.
   */
  readonly must: number;
  /** Unspent tokens of this replica's expired lease, returned first (the bucket still caps at burst). */
  readonly giveBack: number;
}

/** What a lease gave, and what the bucket holds after it (fractional, negative when in debt). */
export interface LeaseResult {
  readonly granted: number;
  readonly remaining: number;
}

/** The bucket's tokens at `now`: refilled by the time elapsed since it was written, capped at burst. A bucket never written is full. */
export function refilled(row: BucketRow | undefined, now: number, limit: BucketLimit): number {
  if (!row) return limit.burst;
  return Math.min(limit.burst, row.tokens + (Math.max(0, now - row.at) / 1000) * limit.ratePerSecond);
}

/** One lease: the tokens granted and the bucket after it. Time never runs backwards for a row. */
export function leaseFromBucket(row: BucketRow | undefined, request: LeaseRequest, now: number, limit: BucketLimit): { row: BucketRow; result: LeaseResult } {
  const available = Math.min(limit.burst, refilled(row, now, limit) + request.giveBack);
  const granted = Math.max(request.must, Math.min(request.ask, Math.floor(available)));
  const remaining = available - granted;
  return { row: { tokens: remaining, at: Math.max(row?.at ?? now, now) }, result: { granted, remaining } };
}

/** Milliseconds until a bucket holding `tokens` holds one whole token. */
export function untilOneToken(tokens: number, limit: BucketLimit): number {
  return tokens >= 1 ? 0 : ((1 - tokens) / limit.ratePerSecond) * 1000;
}

/** Whole seconds to tell a client (Retry-After), at least one. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
