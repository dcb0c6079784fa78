// The delivery rows a pass sends and what it writes back. A claim moves next_attempt_at past the send's
// timeout (a lease), so another replica does not send the same delivery meanwhile, and a crash mid-send
// only delays the retry: delivery is at least once, never lost.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

/** A claimed delivery with what its request needs. */
export interface DueDelivery {
  id: string;
  attempts: number;
  endpoint_id: string;
  url: string;
  secret_env: string;
  event_id: string;
  event_type: string;
  account_id: string;
  payload: unknown;
  run_id: string | null;
  event_created_at: Date;
}

/** How one attempt ended, as the row records it. */
export type AttemptOutcome =
  | { readonly delivered: true; readonly status: number }
  | { readonly delivered: false; readonly status: number | null; readonly error: string; readonly retryAfterMs?: number };

export async function claimDueDeliveries(knex: Knex, nowMs: number, leaseMs: number, limit: number): Promise<DueDelivery[]> {
  const { rows } = await runSql<DueDelivery>(knex, `
    with due as (
      select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
      where d.status = 'pending' and d.next_attempt_at <= ? and e.status = 'active'
      order by d.next_attempt_at, d.id limit ?
      for update of d skip locked
    )
    update webhook_deliveries d set next_attempt_at = ?
    from due, webhook_endpoints e, events ev
    where d.id = due.id and e.id = d.endpoint_id and ev.id = d.event_id
    returning d.id, d.attempts, d.endpoint_id, e.url, e.secret_env, d.event_id, ev.type as event_type, ev.account_id, ev.payload,
      ev.run_id, ev.created_at as event_created_at`,
  [new Date(nowMs), limit, new Date(nowMs + leaseMs)]);
  return rows;
}

/** Writes one attempt's outcome: delivered, or retried at `retryAt`, or given up (`failed`) when `retryAt` is null. */
export async function recordAttempt(knex: Knex, delivery: DueDelivery, outcome: AttemptOutcome, nowMs: number, retryAt: number | null): Promise<void> {
  if (outcome.delivered) {
    await runSql(knex, `update webhook_deliveries set status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = null,
      delivered_at = ? where id = ? and status = 'pending'`, [outcome.status, new Date(nowMs), delivery.id]);
    return;
  }
  await runSql(knex, `update webhook_deliveries set status = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
    next_attempt_at = ? where id = ? and status = 'pending'`,
  [retryAt === null ? "failed" : "pending", outcome.status, outcome.error.slice(0, 1000), new Date(retryAt ?? nowMs), delivery.id]);
}
