// Accounts (organizations), their sending domains, and app users (global: one person may be in several accounts).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table accounts (
      id uuid primary key default gen_random_uuid(),
      slug text not null constraint accounts_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name text not null,
      created_at timestamptz not null default now()
    );
    create unique index accounts_slug_key on accounts (slug);

    create table sending_domains (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts on delete cascade,
      name text not null constraint sending_domains_name_lower check (name = lower(name)),
      created_at timestamptz not null default now(),
      constraint sending_domains_account_name_key unique (account_id, name)
    );

    create table users (
      id uuid primary key default gen_random_uuid(),
      email text not null,
      display_name text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_key on users (lower(email));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table users; drop table sending_domains; drop table accounts;`);
}
