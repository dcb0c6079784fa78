// What the reconciler needs: rules per account, identity links, alerts, an event outbox, a durable
// queue of reconcile requests (written with the SCIM change that causes them), and held plans.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table account_rules (
      account_id uuid primary key references accounts on delete cascade,
      document text not null,
      version integer not null default 1,
      updated_at timestamptz not null default now(),
      updated_by text not null
    );

    -- an IdP user (by its immutable id, through its snapshot row) belongs to exactly one app user
    create table user_identities (
      idp_user_id uuid primary key references idp_users on delete cascade,
      user_id uuid not null references users on delete cascade,
      account_id uuid not null references accounts on delete cascade,
      linked_via text not null,
      linked_at timestamptz not null default now(),
      linked_by_run_id uuid references sync_runs on delete set null
    );
    create index user_identities_user on user_identities (user_id);
    create index user_identities_account on user_identities (account_id);

    create table alerts (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      kind text not null,
      user_id uuid references users on delete set null,
      detail text not null,
      data jsonb not null default '{}',
      run_id uuid references sync_runs on delete set null,
      created_at timestamptz not null default now(),
      resolved_at timestamptz
    );
    create index alerts_open on alerts (account_id, kind) where resolved_at is null;

    -- the outbox: one event per applied change, written in the change's transaction
    create table events (
      id bigint generated always as identity primary key,
      account_id uuid not null references accounts on delete cascade,
      type text not null,
      payload jsonb not null,
      run_id uuid references sync_runs on delete set null,
      created_at timestamptz not null default now()
    );
    create index events_account on events (account_id, id);

    create table reconcile_requests (
      id bigint generated always as identity primary key,
      account_id uuid not null references accounts on delete cascade,
      reason text not null,
      requested_at timestamptz not null default now(),
      processed_at timestamptz
    );
    create index reconcile_requests_pending on reconcile_requests (account_id) where processed_at is null;

    alter table sync_runs add column trigger text not null default 'manual';
    alter table sync_runs add column plan jsonb;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table sync_runs drop column plan; alter table sync_runs drop column trigger;
    drop table reconcile_requests; drop table events; drop table alerts; drop table user_identities; drop table account_rules;
  `);
}
