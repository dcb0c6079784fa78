// Reads a failed Directory API or token request: is it throttling or an outage worth retrying
// (429, 5xx, network, 403 only with domain usageLimits), or a refusal only an admin can fix, and
// then which fix. Google throttles with 403 usageLimits, and plain 403s mean "not allowed":
// retrying those would only hide a configuration problem (SYNC-APIS.md §1.5).
import { SourceConfigError } from "../pull-errors.ts";

export type DirectoryFailure =
  | { readonly kind: "retry"; readonly status: number | null; readonly reason: string; readonly retryAfterMs: number | null }
  | { readonly kind: "refused"; readonly status: number | null; readonly reason: string; readonly message: string; readonly fromTokenEndpoint: boolean }
  /** Not an HTTP or network failure (a bug, a bad argument): passed on as it is. */
  | { readonly kind: "unknown" };

/** What the fixes may name. */
export interface FailureContext {
  readonly clientId: string | null;
  readonly subject: string | null;
  readonly customerId: string;
  readonly scopes: readonly string[];
}

const THROTTLE_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"]);
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET", "ECONNABORTED"]);
// a header asking for longer is broken, not a plan
const MAX_RETRY_AFTER_MS = 300_000;

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly response?: { readonly status?: number; readonly data?: unknown; readonly headers?: unknown };
}

export function classifyFailure(error: unknown, now: number): DirectoryFailure {
  const e = (error ?? {}) as ErrorLike;
  const response = e.response;
  if (!response || typeof response.status !== "number") {
    const code = String(e.code ?? (e.cause as ErrorLike | undefined)?.code ?? "");
    if (NETWORK_CODES.has(code) || /fetch failed|socket|network|timeout/i.test(String(e.message ?? ""))) {
      return { kind: "retry", status: null, reason: code || "network", retryAfterMs: null };
    }
    return { kind: "unknown" };
  }
  const status = response.status;
  const data = parseBody(response.data);
  // the token endpoint answers OAuth errors: {"error": "unauthorized_client", "error_description": "..."}
  if (typeof data?.error === "string") {
    const description = typeof data.error_description === "string" ? data.error_description : data.error;
    if (status >= 500 || status === 429) return { kind: "retry", status, reason: data.error, retryAfterMs: retryAfter(response.headers, now) };
    return { kind: "refused", status, reason: data.error, message: description, fromTokenEndpoint: true };
  }
  const apiError = (data?.error ?? {}) as { message?: unknown; errors?: Array<{ domain?: unknown; reason?: unknown }> };
  const details = Array.isArray(apiError.errors) ? apiError.errors : [];
  const reason = String(details[0]?.reason ?? "");
  const message = typeof apiError.message === "string" ? apiError.message : `HTTP ${status}`;
  const throttled = details.some((d) => d.domain === "usageLimits" || THROTTLE_REASONS.has(String(d.reason)));
  if (status === 408 || status === 429 || status >= 500 || (status === 403 && throttled)) {
    return { kind: "retry", status, reason: reason || String(status), retryAfterMs: retryAfter(response.headers, now) };
  }
  return { kind: "refused", status, reason, message, fromTokenEndpoint: false };
}

function parseBody(data: unknown): Record<string, unknown> | null {
  if (typeof data === "string") {
    try {
      return JSON.parse(data) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return data && typeof data === "object" ? (data as Record<string, unknown>) : null;
}

function retryAfter(headers: unknown, now: number): number | null {
  // gaxios hands over a fetch Headers, possibly another realm's: duck-typed, not instanceof
  const h = headers as { get?: unknown } | null | undefined;
  const value = typeof h?.get === "function" ? (h as Headers).get("retry-after")
    : h && typeof h === "object" ? (h as Record<string, unknown>)["retry-after"] : undefined;
  if (typeof value !== "string" || value.trim() === "") return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : null;
}

/** The SourceConfigError for a refusal, with the one thing an admin should do. */
export function configErrorFor(failure: Extract<DirectoryFailure, { kind: "refused" }>, what: string, ctx: FailureContext): SourceConfigError {
  const text = `${what} was refused: ${failure.status ?? ""} ${failure.reason}: ${failure.message}`.replace(/\s+/g, " ");
  return new SourceConfigError(text, failure.status, fixFor(failure, ctx));
}

function fixFor(failure: Extract<DirectoryFailure, { kind: "refused" }>, ctx: FailureContext): string {
  const client = ctx.clientId ? `client id ${ctx.clientId}` : "the service account's client id";
  const scopes = ctx.scopes.join(",");
  const asAdmin = ctx.subject
    ? `the subject ${ctx.subject} must be an admin with Directory read privileges (Users and Groups: read)`
    : "the service account must hold an admin role with Directory read privileges (Users and Groups: read), or set subject to such an admin";
  if (failure.fromTokenEndpoint) {
    if (failure.reason === "unauthorized_client") {
      return `grant domain-wide delegation in the Admin console (Security → API controls → Domain-wide delegation) for ${client} with scopes ${scopes}`;
    }
    if (failure.reason === "invalid_grant" && /email or user id/i.test(failure.message)) {
      return `subject ${ctx.subject ?? "(none)"} must be an existing, active Workspace admin user`;
    }
    if (failure.reason === "invalid_grant" || failure.reason === "invalid_client") {
      return "the service-account key was refused (deleted or rotated key, disabled account, or clock skew): create a new JSON key and update credentials";
    }
    return "check the service-account key and its domain-wide delegation";
  }
  if (failure.status === 401) return "the access token was refused: check that the service account and its key are enabled";
  if (failure.status === 403 && failure.reason === "insufficientPermissions") {
    return `add the scopes ${scopes} to the domain-wide delegation of ${client}`;
  }
  if (failure.status === 403) return asAdmin;
  if (failure.status === 404) return `check customerId (${ctx.customerId}): use my_customer or the id shown in Admin console → Account → Account settings`;
  if (failure.status === 400) return "a request parameter was refused: check groupQuery and groupEmails";
  return "see the Directory API error; nothing was changed";
}
