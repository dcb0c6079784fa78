// The removal brake's held change-set: each held run (a version of it) with the removals it showed and
// what became of each; rejections that keep a person's access until their facts change; and a held
// run's own timing kept apart from the time it waited for an operator.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table sync_runs drop constraint sync_runs_status;
    alter table sync_runs add constraint sync_runs_status
      check (status in ('running', 'succeeded', 'failed', 'aborted', 'held', 'superseded', 'approved', 'rejected', 'cleared'));
    -- finished_at stays the end of the run's own work; these say when it was held and decided, by whom
    alter table sync_runs add column held_at timestamptz;
    alter table sync_runs add column decided_at timestamptz;
    alter table sync_runs add column decided_by text;
    alter table sync_runs add column superseded_by uuid references sync_runs on delete set null;
    -- the last reminder sent while the run waits
    alter table sync_runs add column reminded_at timestamptz;

    -- the removals a held run showed: decision null while undecided
    create table held_removals (
      run_id uuid not null references sync_runs on delete cascade,
      account_id uuid not null references accounts on delete cascade,
      key text not null,
      user_id uuid not null,
      counted boolean not null,
      fingerprint text not null,
      action jsonb not null,
      ord integer not null,
      decision text check (decision in ('approved', 'applied', 'rejected', 'gone')),
      decided_at timestamptz,
      decided_by text,
      primary key (run_id, key)
    );
    create index held_removals_open on held_removals (account_id) where decision is null;

    -- runs held before this change kept no per-removal record: they end as cleared, and their accounts
    -- are reconciled again, so the brake holds whatever is still pending as a new, decidable version
    insert into reconcile_requests (account_id, reason) select distinct account_id, 'removal brake upgraded' from sync_runs where status = 'held';
    update alerts set resolved_at = now() where kind = 'run_held' and resolved_at is null;
    update sync_runs set status = 'cleared', decided_at = now(), decided_by = 'migration' where status = 'held';

    -- a person whose removal an operator rejected keeps their access while their facts stay as shown
    create table removal_rejections (
      account_id uuid not null references accounts on delete cascade,
      user_id uuid not null references users on delete cascade,
      fingerprint text not null,
      run_id uuid references sync_runs on delete set null,
      keys text[] not null,
      rejected_at timestamptz not null default now(),
      rejected_by text not null,
      primary key (account_id, user_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table removal_rejections; drop table held_removals;
    alter table sync_runs drop column reminded_at; alter table sync_runs drop column superseded_by;
    alter table sync_runs drop column decided_by; alter table sync_runs drop column decided_at; alter table sync_runs drop column held_at;
    update sync_runs set status = 'held' where status = 'superseded';
    update sync_runs set status = 'succeeded' where status in ('approved', 'cleared');
    alter table sync_runs drop constraint sync_runs_status;
    alter table sync_runs add constraint sync_runs_status check (status in ('running', 'succeeded', 'failed', 'aborted', 'held', 'rejected'));
  `);
}
