// Scheduled pulls (Google Workspace, Microsoft Graph): per connection, the state a pull needs between
// runs (Graph delta links, saved in the transaction that applied their changes; the last good pull's
// counts for the drop check), a lease so one run per connection happens at a time across every
// replica, and what each run cost.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table connection_sync_state (
      connection_id uuid primary key references directory_connections on delete cascade,
      users_delta_link text,
      groups_delta_link text,
      delta_links_at timestamptz,
      -- the last pull that was written: a sharp drop against it aborts the next one
      last_good_users integer,
      last_good_memberships integer,
      last_good_at timestamptz,
      last_full_at timestamptz,
      -- one runner per connection: whoever holds an unexpired lease
      lease_owner text,
      lease_until timestamptz
    );

    alter table sync_runs add column api_calls integer;
    alter table sync_runs add column duration_ms integer;
    create index sync_runs_connection on sync_runs (connection_id, started_at desc);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index sync_runs_connection; alter table sync_runs drop column duration_ms; alter table sync_runs drop column api_calls; drop table connection_sync_state;`);
}
