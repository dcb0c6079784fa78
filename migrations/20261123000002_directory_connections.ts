// Where identity data comes from: one connection per IdP per account, its SCIM tokens (hashed),
// and the runs that provenance columns point at.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table directory_connections (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      kind text not null constraint directory_connections_kind check (kind in ('scim', 'google', 'graph')),
      name text not null,
      -- non-secret settings only; credentials are references (a file path or an environment variable name)
      config jsonb not null default '{}',
      status text not null default 'active' constraint directory_connections_status check (status in ('active', 'disabled')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- lets snapshot rows carry (connection_id, account_id) under one foreign key, so a row can never
      -- claim an account its connection does not belong to
      constraint directory_connections_id_account_key unique (id, account_id)
    );
    create index directory_connections_account on directory_connections (account_id);

    create table scim_tokens (
      id uuid primary key default gen_random_uuid(),
      connection_id uuid not null references directory_connections on delete cascade,
      token_hash text not null constraint scim_tokens_hash_key unique,
      token_prefix text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      expires_at timestamptz,
      revoked_at timestamptz
    );
    create index scim_tokens_connection on scim_tokens (connection_id);

    -- one row per reconcile or pull; every IdP-derived change points at the run that made it
    create table sync_runs (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      connection_id uuid references directory_connections on delete set null,
      kind text not null,
      status text not null constraint sync_runs_status check (status in ('running', 'succeeded', 'failed', 'aborted', 'held', 'rejected')),
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      counts jsonb not null default '{}',
      error text
    );
    create index sync_runs_account on sync_runs (account_id, started_at desc);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table sync_runs; drop table scim_tokens; drop table directory_connections;`);
}
