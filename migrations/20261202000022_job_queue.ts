// Background work is a job queue (graphile-worker on PostgreSQL, an in-process queue on the embedded
// database). Two things it needs from our own tables:
// - schedule_slots: a schedule fires on every replica's clock; the first replica to claim a slot
//   enqueues that slot's jobs, so a slot is planned once however many replicas run.
// - wake-ups: a reconcile request or an outbox event, committed by any writer (SCIM, the admin API, a
//   pull, a reconcile), notifies every listening process after commit, so the work is queued within
//   milliseconds without anyone polling. The request and event rows stay the durable record; a
//   notification that nobody heard is made up for by the sweep each process runs when it starts.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table schedule_slots (
      schedule text not null,
      slot timestamptz not null,
      claimed_by text not null,
      claimed_at timestamptz not null default now(),
      jobs integer not null default 0,
      primary key (schedule, slot)
    );

    -- graphile-worker's workers that are alive (see src/scheduler/worker-liveness.ts)
    create table queue_workers (
      worker_id text primary key,
      replica text not null,
      seen_at timestamptz not null default now()
    );

    create function notify_reconcile_requested() returns trigger language plpgsql as $$
    begin
      perform pg_notify('idsync_reconcile_requested', new.account_id::text);
      return null;
    end $$;
    create trigger reconcile_requested after insert on reconcile_requests
      for each row execute function notify_reconcile_requested();

    create function notify_event_recorded() returns trigger language plpgsql as $$
    begin
      -- one payload per transaction: PostgreSQL folds identical notifications of a transaction into one
      perform pg_notify('idsync_event_recorded', '');
      return null;
    end $$;
    create trigger event_recorded after insert on events
      for each statement execute function notify_event_recorded();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger event_recorded on events;
    drop function notify_event_recorded();
    drop trigger reconcile_requested on reconcile_requests;
    drop function notify_reconcile_requested();
    drop table queue_workers;
    drop table schedule_slots;
  `);
}
