// Webhook endpoints and their deliveries as operators create and review them. Every change is audited in
// its own transaction.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import type { NewWebhook } from "./webhook-input.ts";

export interface WebhookEndpoint {
  id: string;
  account_id: string;
  url: string;
  secret_env: string;
  event_types: string[] | null;
  status: "active" | "disabled";
  created_at: Date;
  created_by: string;
  last_event_id: string;
}

export interface WebhookEndpointSummary extends WebhookEndpoint {
  deliveries: { pending: number; delivered: number; failed: number };
}

export type DeliveryStatus = "pending" | "delivered" | "failed";
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "delivered", "failed"];

export interface WebhookDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates an endpoint that receives the account's events from now on: its cursor starts at the newest
 * event of the account already committed, so history is not replayed.
 */
export async function createWebhookEndpoint(knex: Knex, accountId: string, webhook: NewWebhook, actor: string): Promise<WebhookEndpoint> {
  return knex.transaction(async (trx) => {
    const { rows: [endpoint] } = await runSql<WebhookEndpoint>(trx,
      `insert into webhook_endpoints (account_id, url, secret_env, event_types, created_by, last_event_id)
       values (?, ?, ?, ?::text[], ?, (select coalesce(max(id), 0) from events where account_id = ?))
       returning *`,
      [accountId, webhook.url, webhook.secretEnv, webhook.eventTypes ? [...webhook.eventTypes] : null, actor, accountId]);
    await writeAudit(trx, { accountId, actor, action: "webhook.created", targetType: "webhook", targetId: endpoint!.id,
      after: { url: webhook.url, secretEnv: webhook.secretEnv, eventTypes: webhook.eventTypes } });
    return endpoint!;
  });
}

export async function findWebhookEndpoint(db: Executor, id: string): Promise<WebhookEndpoint | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows: [endpoint] } = await runSql<WebhookEndpoint>(db, `select * from webhook_endpoints where id = ?`, [id]);
  return endpoint;
}

export async function listWebhookEndpoints(db: Executor, accountId: string): Promise<WebhookEndpointSummary[]> {
  const { rows } = await runSql<WebhookEndpointSummary>(db, `
    select e.*, json_build_object(
        'pending', count(d.id) filter (where d.status = 'pending'),
        'delivered', count(d.id) filter (where d.status = 'delivered'),
        'failed', count(d.id) filter (where d.status = 'failed')) as deliveries
    from webhook_endpoints e left join webhook_deliveries d on d.endpoint_id = e.id
    where e.account_id = ? group by e.id order by e.created_at, e.id`, [accountId]);
  return rows;
}

/** Stops new deliveries to an endpoint (pending ones stay pending, unsent). Audited once, when it changes. */
export async function disableWebhookEndpoint(knex: Knex, endpoint: WebhookEndpoint, actor: string): Promise<WebhookEndpoint> {
  return knex.transaction(async (trx) => {
    const { rows: [changed] } = await runSql<WebhookEndpoint>(trx,
      `update webhook_endpoints set status = 'disabled' where id = ? and status = 'active' returning *`, [endpoint.id]);
    if (!changed) return (await findWebhookEndpoint(trx, endpoint.id)) ?? endpoint;
    await writeAudit(trx, { accountId: endpoint.account_id, actor, action: "webhook.disabled", targetType: "webhook", targetId: endpoint.id,
      before: { status: endpoint.status }, after: { status: "disabled" } });
    return changed;
  });
}

/** An endpoint's deliveries, newest event first. */
export async function listDeliveries(db: Executor, endpointId: string, options: { status?: DeliveryStatus; limit: number }): Promise<WebhookDelivery[]> {
  const { rows } = await runSql<WebhookDelivery>(db, `
    select d.id, d.endpoint_id, d.event_id, ev.type as event_type, d.status, d.attempts, d.next_attempt_at, d.last_status,
      d.last_error, d.delivered_at, d.created_at
    from webhook_deliveries d join events ev on ev.id = d.event_id
    where d.endpoint_id = ?${options.status ? " and d.status = ?" : ""}
    order by d.event_id desc limit ?`,
  options.status ? [endpointId, options.status, options.limit] : [endpointId, options.limit]);
  return rows;
}
