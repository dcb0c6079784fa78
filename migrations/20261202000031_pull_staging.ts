// Streaming pulls: a full pull writes each page it reads into these staging tables as it arrives (no
// transaction open, memory bounded by a page), then applies the difference to the snapshot in one
// set-based transaction and deletes its rows. A staging belongs to one run of one connection; rows
// left by a killed run are deleted by the next pull of that connection (it holds the lease, so no
// other run of the connection can be writing them).
// Unlogged: staging rows are worthless after a crash (the run they belong to is dead), so they need no
// WAL, and crash recovery empties unlogged tables, which is exactly right (PGlite accepts them too).
// account_id leads every key so the tables distribute like the other tenant tables.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create unlogged table pull_stagings (
      account_id uuid not null,
      id uuid not null,
      connection_id uuid not null,
      run_id uuid,
      created_at timestamptz not null default now(),
      primary key (account_id, id)
    );
    create index pull_stagings_connection on pull_stagings (connection_id);

    create unlogged table pull_staging_users (
      account_id uuid not null,
      stage_id uuid not null,
      source_id text not null,
      user_name text not null,
      display_name text,
      email text,
      active boolean not null,
      resource jsonb not null,
      primary key (account_id, stage_id, source_id)
    );

    create unlogged table pull_staging_groups (
      account_id uuid not null,
      stage_id uuid not null,
      source_id text not null,
      display_name text not null,
      email text,
      resource jsonb not null,
      primary key (account_id, stage_id, source_id)
    );

    -- member_type 'Everyone' (member_source '') is a Google CUSTOMER member: every active user pulled.
    -- No key on the edge: the bulk of a pull's rows, and a five-column text index would cost more to keep than
    -- the apply's union (which collapses an edge staged twice) costs to dedupe. seq is the key.
    create unlogged table pull_staging_members (
      account_id uuid not null,
      stage_id uuid not null,
      seq bigint generated always as identity,
      group_source text not null,
      member_type text not null,
      member_source text not null,
      primary key (account_id, stage_id, seq)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table pull_staging_members; drop table pull_staging_groups; drop table pull_staging_users; drop table pull_stagings;`);
}
