// A run that must happen once per key (a scheduled full reconcile: once per account and slot) records
// its key in the transaction it applies in. A job run again after its replica died between that commit
// and the queue's record of the job (a SIGKILL, an OOM) then finds the key and does nothing: the slot's
// reconcile happened once, though the queue delivers its job at least once.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table reconcile_run_keys (
      account_id uuid not null references accounts (id) on delete cascade,
      key text not null,
      created_at timestamptz not null default now(),
      primary key (account_id, key)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table reconcile_run_keys`);
}
