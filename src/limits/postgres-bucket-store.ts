// Buckets in PostgreSQL, shared by every replica on the database. A lease is ONE statement
// (INSERT … ON CONFLICT DO UPDATE … RETURNING): the row lock serialises replicas leasing the same key,
// and the refill uses the database's clock, so replicas' clocks never need to agree.
import type { Knex } from "knex";
import type { BucketStore } from "./bucket-store.ts";
import type { BucketLimit, LeaseRequest, LeaseResult } from "./token-bucket.ts";

/**
 * token-bucket.ts's leaseFromBucket in SQL, on a bucket holding `tokens` as of `at`: yields
 * (tokens, last_granted, refilled_at, full_at) of the bucket after the lease. `p` holds the parameters.
 */
function leaseOf(tokens: string, at: string): string {
  return `
    select x.available - y.granted, y.granted, x.at, x.at + make_interval(secs => (p.burst - (x.available - y.granted)) / p.rate)
    from (select least(p.burst, ${tokens} + p.rate * greatest(0, cast(extract(epoch from now() - ${at}) as double precision)) + p.give_back) as available,
                 greatest(${at}, now()) as at) x
    cross join lateral (select greatest(p.must, least(p.ask, floor(x.available))) as granted) y`;
}

// a key never leased starts full (burst tokens as of now)
const LEASE = `
  with p as (select cast(:key as text) as key, cast(:rate as double precision) as rate, cast(:burst as double precision) as burst,
                    cast(:ask as double precision) as ask, cast(:must as double precision) as must, cast(:giveBack as double precision) as give_back)
  insert into limit_buckets as b (key, tokens, last_granted, refilled_at, full_at)
  select p.key, l.* from p cross join lateral (${leaseOf("p.burst", "now()")}) l
  on conflict (key) do update set (tokens, last_granted, refilled_at, full_at, leases) =
    (select l.*, b.leases + 1 from p cross join lateral (${leaseOf("b.tokens", "b.refilled_at")}) l)
  returning last_granted as granted, tokens as remaining`;

// full buckets are forgotten in small batches; `full_at < now()` is checked again on the row a
// concurrent lease may just have written, so a bucket in use is never reset to full
const SWEEP = `
  delete from limit_buckets where full_at < now()
    and key in (select key from limit_buckets where full_at < now() limit 1000)`;

const SWEEP_EVERY_MS = 60_000;

export class PostgresBucketStore implements BucketStore {
  readonly shared = true;
  private lastSweep = Date.now();

  constructor(private readonly db: Knex) {}

  async lease(key: string, request: LeaseRequest, limit: BucketLimit): Promise<LeaseResult> {
    const result = await this.db.raw(LEASE, { key, rate: limit.ratePerSecond, burst: limit.burst, ...request });
    const row = result.rows[0] as { granted: number; remaining: number };
    this.sweepNowAndThen();
    return { granted: Number(row.granted), remaining: Number(row.remaining) };
  }

  /** Deletes up to 1,000 buckets that are full again (the same as never leased); returns how many. */
  async sweep(): Promise<number> {
    return (await this.db.raw(SWEEP)).rowCount ?? 0;
  }

  private sweepNowAndThen(): void {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = Date.now();
    // forgetting full buckets only saves space: a failed sweep is retried a minute later
    this.sweep().catch(() => undefined);
  }
}
