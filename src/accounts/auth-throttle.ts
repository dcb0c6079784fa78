// Throttles token guessing: a token bucket per client IP that only FAILED authentications drain.
// A client that never fails is never counted, so valid traffic (Entra's 25 rps, Okta's bursts) is
// unaffected. Once a client IP has used its failure budget, its requests are refused with 429 before
// the token is even looked up, so a guess cannot succeed while throttled and costs no database work.
// The budget is the fleet's, not each replica's: the buckets live in the shared limit store
// (src/limits), and a replica writes there only when a client fails, never for one that succeeds.
import { MemoryBucketStore } from "../limits/bucket-store.ts";
import { LeasedBuckets, type LimitSharing } from "../limits/leased-buckets.ts";

export interface AuthThrottleOptions {
  /** Failed authentications allowed in a burst per client IP. */
  readonly burst: number;
  /** Failures refilled per second. */
  readonly refillPerSecond: number;
  /** Client IPs tracked at most in this process; the longest-idle are forgotten beyond this. */
  readonly maxClients: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = Object.freeze({ burst: 20, refillPerSecond: 1, maxClients: 10_000 });

export class AuthThrottle {
  private readonly buckets: LeasedBuckets;

  /** `sharing`: where the budgets live (default: this process only) and under which name. */
  constructor(options: Partial<AuthThrottleOptions> = {}, now: () => number = Date.now, sharing: LimitSharing = { store: new MemoryBucketStore(now), name: "auth" }) {
    const { burst, refillPerSecond, maxClients } = { ...DEFAULT_AUTH_THROTTLE, ...options };
    this.buckets = new LeasedBuckets({ ...sharing, limit: { burst, ratePerSecond: refillPerSecond }, now, maxKeys: maxClients });
  }

  /** 0 when `client` may try to authenticate, else the whole seconds until it may. Consumes nothing, asks no database. */
  retryAfter(client: string): Promise<number> {
    return this.buckets.retryAfter(client);
  }

  /** Records one failed authentication by `client` (always counted, even past the budget: it lengthens the wait). */
  fail(client: string): Promise<void> {
    return this.buckets.charge(client);
  }
}

/** The client address a throttle keys on: the socket peer, or the address a proxy trusted by IDSYNC_TRUST_PROXY forwarded for. */
export function clientKey(req: { ip?: string; socket?: { remoteAddress?: string } }): string {
  return req.ip ?? req.socket?.remoteAddress ?? "unknown";
}
