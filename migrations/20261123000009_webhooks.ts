// Webhooks: per account, URLs that receive the outbox's events, signed with a secret that lives in an
// environment variable (only its name is stored here). Each endpoint reads `events` through its own
// cursor; each (endpoint, event) pair becomes one delivery row, retried until delivered or given up.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table webhook_endpoints (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      url text not null,
      -- the NAME of the environment variable holding the signing secret, never the secret
      secret_env text not null,
      -- null: every event type
      event_types text[],
      status text not null default 'active' check (status in ('active', 'disabled')),
      created_at timestamptz not null default now(),
      created_by text not null,
      -- events up to this id have been enqueued (or skipped by event_types); a new endpoint starts at the newest
      last_event_id bigint not null default 0
    );
    create index webhook_endpoints_account on webhook_endpoints (account_id);

    create table webhook_deliveries (
      id bigint generated always as identity primary key,
      endpoint_id uuid not null references webhook_endpoints on delete cascade,
      event_id bigint not null references events on delete cascade,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_status integer,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      unique (endpoint_id, event_id)
    );
    create index webhook_deliveries_due on webhook_deliveries (status, next_attempt_at);
    create index webhook_deliveries_event on webhook_deliveries (event_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table webhook_deliveries; drop table webhook_endpoints;`);
}
