// Delivers the outbox's events to webhook endpoints: one pass (tick) enqueues what is new (exactly once
// per endpoint and event) and sends what is due, a few requests at a time; a failed attempt is retried
// with backoff and given up after MAX_ATTEMPTS. `idsync serve` runs a pass as a job whenever events are
// recorded and when a retry falls due (src/scheduler/background-work.ts). Safe on several replicas:
// enqueuing locks each endpoint's cursor, sending claims each delivery with a lease.
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { enqueueDeliveries } from "./enqueue-deliveries.ts";
import { claimDueDeliveries, recordAttempt, type DueDelivery } from "./due-deliveries.ts";
import { sendDelivery } from "./send-delivery.ts";
import { givesUp, retryDelayMs } from "./retry-backoff.ts";

export interface WebhookDispatcherOptions {
  db: Knex;
  log: Logger;
  /** Where the signing secrets are read, by the names endpoints store (default process.env). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** The clock, in ms since the epoch: tests move it instead of sleeping. */
  now?: () => number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Deliveries sent per pass (default 100). */
  batchSize?: number;
  /** Jitter source for the backoff (default Math.random). */
  random?: () => number;
}

export class WebhookDispatcher {
  constructor(private readonly options: WebhookDispatcherOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** One pass: enqueue new events, then send what is due. Returns how many requests it attempted. */
  async tick(): Promise<number> {
    const { db } = this.options;
    await enqueueDeliveries(db, this.now());
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const batchSize = this.options.batchSize ?? 100;
    const concurrency = this.options.concurrency ?? 8;
    // the lease outlasts the whole batch at its slowest, so only a crashed sender's deliveries are claimed again
    const leaseMs = Math.ceil(batchSize / concurrency) * timeoutMs + 60_000;
    const due = await claimDueDeliveries(db, this.now(), leaseMs, batchSize);
    const queue = [...due];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        // a delivery whose outcome could not be written is sent again once its lease ends
        await this.attempt(next, timeoutMs).catch((error) => this.options.log.error({ err: error, deliveryId: next!.id }, "recording a webhook attempt failed"));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    return due.length;
  }

  private async attempt(delivery: DueDelivery, timeoutMs: number): Promise<void> {
    const outcome = await sendDelivery(delivery, {
      fetch: this.options.fetch ?? fetch, env: this.options.env ?? process.env, nowMs: this.now(), timeoutMs,
    });
    const now = this.now();
    const attempts = delivery.attempts + 1;
    const retryAt = outcome.delivered || givesUp(attempts) ? null : now + (outcome.retryAfterMs ?? retryDelayMs(attempts, this.options.random));
    await recordAttempt(this.options.db, delivery, outcome, now, retryAt);
    const fields = { deliveryId: delivery.id, endpointId: delivery.endpoint_id, eventId: delivery.event_id, attempts, status: outcome.status };
    if (outcome.delivered) this.options.log.debug(fields, "webhook delivered");
    else if (retryAt === null) this.options.log.warn({ ...fields, error: outcome.error }, "webhook delivery given up");
    else this.options.log.info({ ...fields, error: outcome.error, retryAt: new Date(retryAt).toISOString() }, "webhook delivery failed; will retry");
  }
}
