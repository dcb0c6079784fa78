// Operator credentials for the admin API (and so the CLI). Stored hashed, like every other token.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table admin_tokens (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      token_hash text not null constraint admin_tokens_hash_key unique,
      token_prefix text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table admin_tokens;`);
}
