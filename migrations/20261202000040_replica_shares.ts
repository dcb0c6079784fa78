// How many of a slot's full reconciles each replica has run (src/scheduler/fair-share.ts): a replica
// ahead of its fair share lets the others take the next ones, so the fleet's work divides evenly
// instead of by whose poll happens to come first.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table replica_shares (
      replica text primary key,
      slot timestamptz not null,
      full_runs integer not null default 0,
      seen_at timestamptz not null default now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table replica_shares`);
}
