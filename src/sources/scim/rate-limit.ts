// A token bucket per SCIM token: a runaway client cannot starve other tenants. Sized well above
// Entra's 25 requests per second per tenant. Process-local: each replica enforces its own share.
export interface RateLimit {
  /** Requests per second refilled. */
  readonly ratePerSecond: number;
  /** Largest burst allowed. */
  readonly burst: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly limit: RateLimit, private readonly now: () => number = Date.now) {}

  /** Takes one request's worth; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.ratePerSecond));
  }
}
