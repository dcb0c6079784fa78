// Where buckets live. A replica leases tokens from a store (leased-buckets.ts); the store is the one
// place every replica agrees on. PostgreSQL (postgres-bucket-store.ts) is shared by every replica on
// the database; the memory store below is this process's own, which is the whole fleet for the
// embedded PGlite (one process holds its data directory) and the fallback while PostgreSQL is down.
import { leaseFromBucket, refilled, type BucketLimit, type BucketRow, type LeaseRequest, type LeaseResult } from "./token-bucket.ts";

/** Takes a lease from the bucket named `key` in one atomic step: two callers never spend the same token. */
export interface BucketStore {
  /** Whether every replica sees the same buckets (false: this process only). */
  readonly shared: boolean;
  lease(key: string, request: LeaseRequest, limit: BucketLimit): Promise<LeaseResult>;
}

/** Buckets in this process's memory: at most `maxKeys`, the least recently leased forgotten first (as if full again). */
export class MemoryBucketStore implements BucketStore {
  readonly shared = false;
  /** Leases taken so far: what a shared store would have written, for the tests' and benchmarks' figures. */
  leasesTaken = 0;
  private readonly rows = new Map<string, BucketRow>();

  constructor(private readonly now: () => number = Date.now, private readonly maxKeys = 100_000) {}

  async lease(key: string, request: LeaseRequest, limit: BucketLimit): Promise<LeaseResult> {
    return this.leaseNow(key, request, limit);
  }

  /** The same lease, synchronously (the replica engine uses it when the shared store cannot answer). */
  leaseNow(key: string, request: LeaseRequest, limit: BucketLimit): LeaseResult {
    this.leasesTaken += 1;
    const { row, result } = leaseFromBucket(this.rows.get(key), request, this.now(), limit);
    this.rows.delete(key); // re-inserted last: the Map's order is least-recently-leased first
    this.rows.set(key, row);
    for (const oldest of this.rows.keys()) {
      if (this.rows.size <= this.maxKeys) break;
      this.rows.delete(oldest);
    }
    return result;
  }

  /** The tokens bucket `key` holds now (for tests and diagnostics). */
  peek(key: string, limit: BucketLimit): number {
    return refilled(this.rows.get(key), this.now(), limit);
  }
}
