// Turns new outbox events into delivery rows: per account, for each of its active endpoints, one row per
// event after the endpoint's cursor (that its event_types accept), and the cursor moved past every event
// looked at, all in one transaction, so each event is enqueued exactly once per endpoint.
// A cursor on ids is safe because one account's events commit in id order: they are written only inside
// reconcile runs, which hold the account row "for no key update", so no event of the account can still
// commit with an id below one already visible. A new writer of `events` must hold that lock too.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

/** Events read per endpoint per pass; a backlog drains over several passes. */
export const ENQUEUE_BATCH = 1000;

/**
 * Enqueues what is new for every account with an active endpoint behind the newest event; returns how many deliveries it created.
 * `nowMs` is when the new deliveries are first due.
 */
export async function enqueueDeliveries(knex: Knex, nowMs: number, batch = ENQUEUE_BATCH): Promise<number> {
  const { rows: accounts } = await runSql<{ account_id: string }>(knex,
    `select distinct e.account_id from webhook_endpoints e
     where e.status = 'active' and exists (select 1 from events ev where ev.account_id = e.account_id and ev.id > e.last_event_id)`);
  let created = 0;
  for (const { account_id: accountId } of accounts) created += await enqueueAccount(knex, accountId, new Date(nowMs), batch);
  return created;
}

async function enqueueAccount(knex: Knex, accountId: string, due: Date, batch: number): Promise<number> {
  return knex.transaction(async (trx) => {
    // another replica enqueuing the same endpoint holds its row; this one leaves it alone
    const { rows: endpoints } = await runSql<{ id: string; last_event_id: string; event_types: string[] | null }>(trx,
      `select id, last_event_id, event_types from webhook_endpoints where account_id = ? and status = 'active' for update skip locked`, [accountId]);
    let created = 0;
    for (const endpoint of endpoints) {
      const { rows: [row] } = await runSql<{ created: number }>(trx, `
        with batch as (
          select id, type from events where account_id = ? and id > ? order by id limit ?
        ), queued as (
          insert into webhook_deliveries (endpoint_id, event_id, next_attempt_at)
          select ?, id, ? from batch where ?::text[] is null or type = any(?::text[])
          on conflict (endpoint_id, event_id) do nothing
          returning 1
        ), moved as (
          update webhook_endpoints set last_event_id = (select max(id) from batch) where id = ? and exists (select 1 from batch)
        )
        select (select count(*) from queued)::int as created`,
      [accountId, endpoint.last_event_id, batch, endpoint.id, due, endpoint.event_types, endpoint.event_types, endpoint.id]);
      created += row!.created;
    }
    return created;
  });
}
