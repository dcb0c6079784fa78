// One HTTP attempt of one delivery: the event as JSON, signed, with a timeout. It never sends unsigned:
// without a usable secret it does not send at all. It throws nothing; every ending is an outcome.
import type { AttemptOutcome, DueDelivery } from "./due-deliveries.ts";
import { MIN_SECRET_LENGTH, signedHeaders } from "./webhook-signature.ts";
import { retryAfterMs } from "./retry-backoff.ts";
import { isSecretEnvName, SECRET_ENV_PREFIX } from "./webhook-input.ts";

export interface SendOptions {
  readonly fetch: typeof fetch;
  readonly env: NodeJS.ProcessEnv;
  readonly nowMs: number;
  readonly timeoutMs: number;
}

/** The request body: the same bytes on every attempt of an event, so receivers can compare. */
export function eventBody(delivery: DueDelivery): string {
  return JSON.stringify({
    id: String(delivery.event_id),
    type: delivery.event_type,
    accountId: delivery.account_id,
    runId: delivery.run_id,
    createdAt: new Date(delivery.event_created_at).toISOString(),
    data: delivery.payload,
  });
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no response within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `request failed: ${e?.message ?? String(error)}${cause ? ` (${cause})` : ""}`;
}

export async function sendDelivery(delivery: DueDelivery, options: SendOptions): Promise<AttemptOutcome> {
  // a row written around the admin API still cannot turn another variable into a signing key
  if (!isSecretEnvName(delivery.secret_env)) return { delivered: false, status: null, error: `${delivery.secret_env} is not an ${SECRET_ENV_PREFIX}… variable; nothing was sent` };
  const secret = options.env[delivery.secret_env];
  if (!secret) return { delivered: false, status: null, error: `the signing secret is missing: environment variable ${delivery.secret_env} is not set; nothing was sent` };
  if (secret.length < MIN_SECRET_LENGTH) {
    return { delivered: false, status: null, error: `the signing secret in ${delivery.secret_env} is shorter than ${MIN_SECRET_LENGTH} characters; nothing was sent` };
  }
  const body = eventBody(delivery);
  const timestamp = Math.floor(options.nowMs / 1000);
  try {
    const response = await options.fetch(delivery.url, {
      method: "POST",
      headers: { ...signedHeaders(secret, timestamp, body, { id: String(delivery.event_id), type: delivery.event_type }), "User-Agent": "idsync-webhooks" },
      body,
      // a redirect is an answer, not a new destination: the signed event goes only to the configured URL
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
    const retryAfter = response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get("retry-after"), options.nowMs) : undefined;
    return { delivered: false, status: response.status, error: `the endpoint answered HTTP ${response.status}`, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  } catch (error) {
    return { delivered: false, status: null, error: describeFailure(error, options.timeoutMs) };
  }
}
