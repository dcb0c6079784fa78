// Throttles token guessing: a token bucket per client IP that only FAILED authentications drain.
// A client that never fails is never counted, so valid traffic (Entra's 25 rps, Okta's bursts) is
// unaffected. Once a client IP has used its failure budget, its requests are refused with 429 before
// the token is even looked up, so a guess cannot succeed while throttled and costs no database work.
// Process-local, like the SCIM per-token limit: each replica enforces its own share.
export interface AuthThrottleOptions {
  /** Failed authentications allowed in a burst per client IP. */
  readonly burst: number;
  /** Failures refilled per second. */
  readonly refillPerSecond: number;
  /** Client IPs tracked at most; the longest-idle are forgotten beyond this. */
  readonly maxClients: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = Object.freeze({ burst: 20, refillPerSecond: 1, maxClients: 10_000 });

interface Bucket { tokens: number; at: number }

export class AuthThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: AuthThrottleOptions;

  constructor(options: Partial<AuthThrottleOptions> = {}, private readonly now: () => number = Date.now) {
    this.options = { ...DEFAULT_AUTH_THROTTLE, ...options };
  }

  /** 0 when `client` may try to authenticate, else the whole seconds until it may. Consumes nothing. */
  retryAfter(client: string): number {
    const bucket = this.refill(client);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.options.refillPerSecond));
  }

  /** Records one failed authentication by `client`. */
  fail(client: string): void {
    const bucket = this.refill(client) ?? { tokens: this.options.burst, at: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // re-insert so the Map's order is least-recently-failed first
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    this.evict();
  }

  private refill(client: string): Bucket | undefined {
    const bucket = this.buckets.get(client);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.refillPerSecond);
    bucket.at = now;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(client); // full again: nothing worth remembering
      return undefined;
    }
    return bucket;
  }

  private evict(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.options.maxClients) return;
      this.buckets.delete(key);
    }
  }
}

/** The client address a throttle keys on: the socket peer, or the address a proxy trusted by IDSYNC_TRUST_PROXY forwarded for. */
export function clientKey(req: { ip?: string; socket?: { remoteAddress?: string } }): string {
  return req.ip ?? req.socket?.remoteAddress ?? "unknown";
}
