// Rate limits shared by every replica on the database: one token bucket per key (a SCIM token's
// request budget, a client address's failed authentications). Replicas do not write here per
// request: each leases a share of tokens about once a second and spends it locally
// (src/limits/leased-buckets.ts). A row that has refilled to its burst is the same as no row, so
// rows past `full_at` may be deleted at any time.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table limit_buckets (
      key text primary key,
      -- tokens as of refilled_at; negative is a debt (failures charged past the budget)
      tokens double precision not null,
      refilled_at timestamptz not null,
      -- when the bucket is full again if nobody leases: rows past it can be forgotten
      full_at timestamptz not null,
      -- what the latest lease granted (RETURNING sees only the new row, so the grant is kept in it)
      last_granted double precision not null,
      -- leases taken from this row: database writes for this key, for operators and the fleet tests
      leases bigint not null default 1
    );
    create index limit_buckets_full_at on limit_buckets (full_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table limit_buckets`);
}
