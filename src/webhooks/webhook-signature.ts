// How a receiver knows a request came from idsync: `Idsync-Signature: t=<unix seconds>,v1=<hex>`, where
// the hex is HMAC-SHA256 with the endpoint's secret over "<t>.<body>" (the raw body bytes as sent).
// `Idsync-Event-Id` is the idempotency id: the same event to the same endpoint always carries it, so a
// receiver that sees it twice (at-least-once delivery) can drop the repeat.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Idsync-Signature";
export const EVENT_ID_HEADER = "Idsync-Event-Id";
export const EVENT_TYPE_HEADER = "Idsync-Event-Type";

/** A secret shorter than this is refused: an HMAC key an attacker holding signed bodies could guess. */
export const MIN_SECRET_LENGTH = 16;

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** The headers of one signed request; `timestamp` is in unix seconds. */
export function signedHeaders(secret: string, timestamp: number, body: string, event: { id: string; type: string }): Record<string, string> {
  return {
    "Content-Type": "application/json",
    [SIGNATURE_HEADER]: `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`,
    [EVENT_ID_HEADER]: event.id,
    [EVENT_TYPE_HEADER]: event.type,
  };
}

/**
 * What a receiver does (and what the tests do): true when one v1 signature in the header matches the body
 * and its timestamp is within `toleranceSeconds` of `nowSeconds` (a replayed old request is refused).
 */
export function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header) return false;
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), "hex");
  return parts.some(([k, v]) => {
    if (k !== "v1" || !v || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(expected, Buffer.from(v, "hex"));
  });
}
