// One limit, enforced across the fleet: a token bucket per key lives in a store every replica shares
// (PostgreSQL), and each replica spends from a local allowance it leases from that bucket. A request
// served from the allowance touches no database. When the allowance is spent (or a second old), the
// replica leases again, asking for what it spent in the last second plus one, so at steady state a
// replica writes about once a second per key it serves, and a key it does not serve costs nothing.
//
// Why the fleet cannot exceed the limit: every token spent anywhere was first taken from the shared
// bucket, which refills at `ratePerSecond` up to `burst` whatever the replicas do; give-backs are
// capped at the burst too. So from any moment the bucket was full, the fleet spends at most
// burst + rate × elapsed. Over a window that starts mid-way, the allowances already leased (at most
// what each replica spent in the second before, plus one) come on top, and they expire a second
// after their lease, so over 10 s past the burst the fleet stays within about (10 + 1) / 10 of the rate
// in the worst case, and at the rate when load is steady (what replicas lease, they spend).
//
// (rate-limiter-flexible, the usual npm choice, has a PostgreSQL limiter, but it counts a fixed
// window with one upsert per request; its in-memory block only starts once a key is over its limit.)
import { MemoryBucketStore, type BucketStore } from "./bucket-store.ts";
import { refilled, retryAfterSeconds, untilOneToken, type BucketLimit, type LeaseRequest, type LeaseResult } from "./token-bucket.ts";

/** How long leased tokens may be spent; unspent ones go back with the replica's next lease. */
export const LEASE_MS = 1_000;
/** A lease the store has not answered by then is given up (its tokens are lost, never spent twice). */
const STORE_TIMEOUT_MS = 1_000;
/** After the store fails, this process's own buckets answer for this long before the store is tried again. */
const STORE_RETRY_MS = 5_000;

/** Where a limit's buckets live and what it reports: the part a caller chooses per deployment. */
export interface LimitSharing {
  readonly store: BucketStore;
  /** Names this limit's buckets in the store (one store holds several limits). */
  readonly name: string;
  /** Told when the store stops answering (this process's own buckets then stand in for a few seconds), with the cause. */
  readonly onStoreDown?: (error: unknown) => void;
}

export interface LeasedBucketsOptions extends LimitSharing {
  readonly limit: BucketLimit;
  readonly now?: () => number;
  /** Keys with local state at most; the least recently used are forgotten (their shared buckets stay). */
  readonly maxKeys?: number;
}

/** This replica's share of one key's bucket. */
interface Allowance {
  /** Whole tokens leased and not yet spent. */
  tokens: number;
  /** The latest lease's end: its tokens are spendable until then. */
  expiresAt: number;
  /** The latest lease granted less than it asked: the shared bucket is at its limit. */
  short: boolean;
  /** Until then this key is refused here without asking the store: the shared bucket was empty. */
  heldUntil: number;
  /** The shared bucket as the latest lease left it, to tell when it can pay for one more. */
  shared: { tokens: number; at: number };
  /** Spends in whole seconds (this one and the one before), to size the next lease. */
  spends: { second: number; current: number; previous: number };
  pending?: Promise<unknown>;
  /** Callers waiting for the pending lease: the next lease asks for them too. */
  waiting: number;
}

export class LeasedBuckets {
  private readonly allowances = new Map<string, Allowance>();
  private readonly limit: BucketLimit;
  private readonly now: () => number;
  private readonly fallback: MemoryBucketStore;
  private storeDownUntil = 0;

  constructor(private readonly options: LeasedBucketsOptions) {
    this.limit = options.limit;
    this.now = options.now ?? Date.now;
    this.fallback = new MemoryBucketStore(this.now, options.maxKeys);
  }

  /** Spends one token of `key`: 0 when allowed, else the whole seconds to wait (Retry-After). */
  take(key: string): Promise<number> {
    return this.spend(key, 0);
  }

  /**
   * Spends one token of `key` for something that already happened (a failed authentication), even
   * past the budget: the shared bucket then goes into debt, which holds the key longer. A replica that
   * had not seen this key fail lets its first attempt through; charging it keeps the fleet's total honest.
   */
  async charge(key: string): Promise<void> {
    await this.spend(key, 1);
  }

  /**
   * 0 when `key` may proceed, else the whole seconds to wait. Spends nothing. Asks the store only for a
   * key spent here within the last second that has nothing left here (a client failing right now): so
   * replicas together let it try no more than its budget, while a key that is not failing costs nothing.
   */
  async retryAfter(key: string): Promise<number> {
    const a = this.allowances.get(key);
    if (!a) return 0;
    if (a.pending) await a.pending;
    if (!this.spendable(a, this.now()) && this.now() >= a.heldUntil && this.spentInLastSecond(a, this.now()) > 0) {
      await (a.pending ?? this.lease(key, a, 0, false));
    }
    const now = this.now();
    return now < a.heldUntil ? retryAfterSeconds(a.heldUntil - now) : 0;
  }

  private allowance(key: string): Allowance {
    let a = this.allowances.get(key);
    if (a) {
      this.allowances.delete(key); // re-inserted last: the Map's order is least-recently-used first
    } else {
      a = { tokens: 0, expiresAt: 0, short: false, heldUntil: 0, shared: { tokens: this.limit.burst, at: 0 }, spends: { second: 0, current: 0, previous: 0 }, waiting: 0 };
    }
    this.allowances.set(key, a);
    for (const oldest of this.allowances.keys()) {
      if (this.allowances.size <= (this.options.maxKeys ?? 100_000)) break;
      this.allowances.delete(oldest);
    }
    return a;
  }

  /** `must`: spend even past the budget (a lease with must = 1 always grants), so this never gives up. */
  private async spend(key: string, must: 0 | 1): Promise<number> {
    for (let attempt = 0; must === 1 || attempt < 3; attempt++) {
      const a = this.allowance(key);
      const now = this.now();
      if (this.spendOne(a, now)) return 0;
      if (must === 0 && now < a.heldUntil) return retryAfterSeconds(a.heldUntil - now);
      if (a.pending) {
        // counted until this caller runs again (a pending lease never rejects): callers resume in the
        // order they queued, so the first to resume leases for all those still queued behind it
        a.waiting += 1;
        await a.pending;
        a.waiting -= 1;
        continue;
      }
      if (await this.lease(key, a, must)) return 0;
    }
    return retryAfterSeconds(LEASE_MS);
  }

  private spendable(a: Allowance, now: number): boolean {
    return a.tokens >= 1 && now < a.expiresAt;
  }

  private spendOne(a: Allowance, now: number): boolean {
    if (!this.spendable(a, now)) return false;
    a.tokens -= 1;
    this.countSpend(a, now);
    if (a.tokens < 1) this.holdWhenSpent(a, now);
    return true;
  }

  /** Leases more of `key` and (unless `spend` is false) spends one of it for the caller; false when nothing was granted. */
  private async lease(key: string, a: Allowance, must: 0 | 1, spend = true): Promise<boolean> {
    // what this key spent here in the last second, the callers queued behind this lease, and this one
    const ask = Math.min(this.limit.burst, Math.ceil(this.spentInLastSecond(a, this.now())) + a.waiting + 1);
    const request = { ask, must, giveBack: a.tokens };
    a.tokens = 0;
    const leasing = this.leaseFromStore(`${this.options.name}:${key}`, request);
    a.pending = leasing;
    let result: LeaseResult;
    try {
      result = await leasing;
    } finally {
      a.pending = undefined;
    }
    const now = this.now();
    a.shared = { tokens: result.remaining, at: now };
    a.tokens = result.granted;
    a.expiresAt = now + LEASE_MS;
    a.short = result.granted < request.ask;
    if (result.granted >= 1) return spend ? this.spendOne(a, now) : true;
    this.holdWhenSpent(a, now);
    return false;
  }

  private async leaseFromStore(key: string, request: LeaseRequest): Promise<LeaseResult> {
    if (this.now() < this.storeDownUntil) return this.fallback.leaseNow(key, request, this.limit);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the limit store did not answer within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
      });
      return await Promise.race([this.options.store.lease(key, request, this.limit), timeout]);
    } catch (error) {
      this.storeDownUntil = this.now() + STORE_RETRY_MS;
      this.options.onStoreDown?.(error);
      return this.fallback.leaseNow(key, request, this.limit);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Nothing is left here. Hold the key (refuse it here, asking no store) while the shared bucket, as
   * last seen and refilled since, cannot pay for one more; and when the latest lease came up short,
   * until that lease's second is over too: a key over its limit then costs each replica about one
   * write a second, however hard it is hammered, and the refill waits in the bucket for the next lease.
   */
  private holdWhenSpent(a: Allowance, now: number): void {
    const shared = refilled(a.shared, now, this.limit);
    const untilPaid = shared < 1 ? now + untilOneToken(shared, this.limit) : 0;
    a.heldUntil = Math.max(a.heldUntil, untilPaid, a.short ? a.expiresAt : 0);
  }

  private countSpend(a: Allowance, now: number): void {
    this.rollSeconds(a, now);
    a.spends.current += 1;
  }

  /** Spends over the last second, the earlier whole second weighted by how much of it is still inside. */
  private spentInLastSecond(a: Allowance, now: number): number {
    this.rollSeconds(a, now);
    return a.spends.current + a.spends.previous * (1 - (now % 1000) / 1000);
  }

  private rollSeconds(a: Allowance, now: number): void {
    const second = Math.floor(now / 1000);
    if (second === a.spends.second) return;
    a.spends = { second, current: 0, previous: second === a.spends.second + 1 ? a.spends.current : 0 };
  }
}
