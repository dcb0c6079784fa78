// The pure parts: the backoff schedule and the signature scheme receivers implement.
import { expect, test } from "vitest";
import { givesUp, MAX_ATTEMPTS, MAX_DELAY_MS, retryAfterMs, retryDelayMs } from "../../src/webhooks/retry-backoff.ts";
import { signatureOf, signedHeaders, verifySignature } from "../../src/webhooks/webhook-signature.ts";
import { checkNewWebhook } from "../../src/webhooks/webhook-input.ts";

test("retries double from one second, stay between half and all of that, and stop growing at an hour", () => {
  expect([1, 2, 3, 4].map((a) => retryDelayMs(a, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  expect([1, 2, 3, 4].map((a) => retryDelayMs(a, () => 0))).toEqual([500, 1000, 2000, 4000]);
  expect(retryDelayMs(13, () => 1)).toBe(MAX_DELAY_MS);
  expect(retryDelayMs(1000, () => 1)).toBe(MAX_DELAY_MS);
  expect(retryDelayMs(1000, () => 0)).toBe(MAX_DELAY_MS / 2);
  expect(givesUp(MAX_ATTEMPTS - 1)).toBe(false);
  expect(givesUp(MAX_ATTEMPTS)).toBe(true);
});

test("Retry-After is read as seconds or as a date, capped at an hour, and ignored when unreadable", () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  expect(retryAfterMs("120", now)).toBe(120_000);
  expect(retryAfterMs(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
  expect(retryAfterMs(new Date(now - 30_000).toUTCString(), now)).toBe(0);
  expect(retryAfterMs("86400", now)).toBe(MAX_DELAY_MS);
  expect(retryAfterMs("soon", now)).toBeUndefined();
  expect(retryAfterMs(null, now)).toBeUndefined();
});

test("the signature is HMAC-SHA256 over '<t>.<body>', and a stale or altered request does not verify", () => {
  const secret = "whsec-0123456789abcdef";
  const body = `{"id":"7","type":"member.added"}`;
  // computed independently: printf '1795435200.{"id":"7","type":"member.added"}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef
  expect(signatureOf(secret, 1795435200, body)).toBe(EXPECTED);
  const headers = signedHeaders(secret, 1795435200, body, { id: "7", type: "member.added" });
  expect(headers).toMatchObject({ "Idsync-Signature": `t=1795435200,v1=${EXPECTED}`, "Idsync-Event-Id": "7", "Idsync-Event-Type": "member.added" });
  expect(verifySignature(secret, headers["Idsync-Signature"], body, 1795435200 + 299)).toBe(true);
  expect(verifySignature(secret, headers["Idsync-Signature"], body, 1795435200 + 301)).toBe(false);
  expect(verifySignature(secret, headers["Idsync-Signature"], `${body} `, 1795435200)).toBe(false);
  expect(verifySignature(secret, `t=1795435200,v1=zz`, body, 1795435200)).toBe(false);
  expect(verifySignature(secret, undefined, body, 1795435200)).toBe(false);
});

test("a webhook's URL is normalised and its event types de-duplicated", () => {
  expect(checkNewWebhook({ url: "HTTPS://Hooks.Example.com/x", secretEnv: "IDSYNC_WEBHOOK_A", eventTypes: ["member.added", "member.added"] }))
    .toEqual({ url: "https://hooks.example.com/x", secretEnv: "IDSYNC_WEBHOOK_A", eventTypes: ["member.added"] });
});

const EXPECTED = "9b272ce04fca22b6e2f288166044146d9e5a48ea04e042b1299b5c61dbe34015";
