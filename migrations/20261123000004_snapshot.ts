// What each IdP told us: users, groups and group members, keyed on the IdP's immutable ids.
// Deletions leave a tombstone (deleted_at) so the reconciler can tell "deleted" from "never seen".
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table idp_users (
      id uuid primary key,
      connection_id uuid not null,
      account_id uuid not null,
      -- the IdP's immutable id (SCIM: the id we assigned; Google: user id; Graph: object id)
      source_id text not null,
      external_id text,
      user_name text not null,
      display_name text,
      email text,
      active boolean not null default true,
      -- the whole resource as the IdP sent it (after dialect normalisation), without id and meta
      resource jsonb not null,
      version integer not null default 1,
      last_run_id uuid references sync_runs on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      foreign key (connection_id, account_id) references directory_connections (id, account_id) on delete cascade
    );
    create unique index idp_users_source_key on idp_users (connection_id, source_id);
    create unique index idp_users_user_name_key on idp_users (connection_id, lower(user_name)) where deleted_at is null;
    create index idp_users_external_id on idp_users (connection_id, external_id) where deleted_at is null;
    create index idp_users_email on idp_users (connection_id, lower(email)) where deleted_at is null;
    create index idp_users_page on idp_users (connection_id, created_at, id) where deleted_at is null;
    create index idp_users_account on idp_users (account_id);

    create table idp_groups (
      id uuid primary key,
      connection_id uuid not null,
      account_id uuid not null,
      source_id text not null,
      external_id text,
      display_name text not null,
      -- Google groups are addressed by email
      email text,
      resource jsonb not null,
      version integer not null default 1,
      last_run_id uuid references sync_runs on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz,
      foreign key (connection_id, account_id) references directory_connections (id, account_id) on delete cascade
    );
    create unique index idp_groups_source_key on idp_groups (connection_id, source_id);
    create index idp_groups_display_name on idp_groups (connection_id, lower(display_name)) where deleted_at is null;
    create index idp_groups_external_id on idp_groups (connection_id, external_id) where deleted_at is null;
    create index idp_groups_page on idp_groups (connection_id, created_at, id) where deleted_at is null;

    -- direct members only; nesting is resolved by readers
    create table idp_group_members (
      group_id uuid not null references idp_groups on delete cascade,
      member_id uuid not null,
      member_type text not null constraint idp_group_members_type check (member_type in ('User', 'Group')),
      display text,
      created_at timestamptz not null default now(),
      primary key (group_id, member_id)
    );
    create index idp_group_members_member on idp_group_members (member_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table idp_group_members; drop table idp_groups; drop table idp_users;`);
}
