// Turns what the Graph SDK and the identity library throw into the pull errors a caller can act on
// (pull-errors.ts). Done once, here, so nothing downstream parses Graph error messages.
import { DeltaResyncRequired, IncompletePullError, SourceConfigError, SourceUnavailableError } from "../pull-errors.ts";

/** What was being read when it failed, for the error's message and `fix`. */
export interface FailedRead {
  /** `users` or `groups`. */
  readonly resource: "users" | "groups";
  readonly clientId: string;
  readonly tenantId: string;
  readonly secretEnv?: string;
  readonly certificateFile?: string;
  readonly calls: number;
}

/** The application permission each delta resource needs (admin-consented). */
export const REQUIRED_PERMISSION = { users: "User.Read.All", groups: "GroupMember.Read.All" } as const;

interface ErrorShape {
  statusCode?: number;
  code?: string | null;
  name?: string;
  message?: string;
  body?: unknown;
  errorResponse?: { error?: string; errorDescription?: string };
}

function credentialFix(read: FailedRead, description: string): string {
  if (/AADSTS90002|AADSTS900023/.test(description)) return `tenant ${read.tenantId} was not found: check tenantId`;
  if (/AADSTS700016/.test(description)) return `application ${read.clientId} is not in tenant ${read.tenantId}: check clientId`;
  if (read.certificateFile !== undefined) {
    return `the certificate in ${read.certificateFile} is not accepted for app ${read.clientId}: upload it to the app registration or fix the path`;
  }
  return `the client secret in env ${read.secretEnv ?? "(unset)"} is wrong or expired: create a new secret for app ${read.clientId} and set it there`;
}

/** The pull error for `error`, or `error` itself when it is none of the known failures. */
export function toPullError(error: unknown, read: FailedRead): unknown {
  if (error instanceof DeltaResyncRequired || error instanceof IncompletePullError || error instanceof SourceConfigError ||
      error instanceof SourceUnavailableError) return error;
  const e = (error ?? {}) as ErrorShape;
  const text = `${e.message ?? ""} ${typeof e.body === "string" ? e.body : ""}`;
  // the identity library's errors: a refusal by Entra carries an AADSTS code; anything else (unreachable, 5xx) is an outage
  if (/AADSTS\d+|invalid_client|unauthorized_client|invalid_tenant/.test(text)) {
    return new SourceConfigError(`Entra ID refused a token for app ${read.clientId}`, 401, credentialFix(read, text));
  }
  if ([e.name, e.code].some((n) => n === "AuthenticationError" || n === "CredentialUnavailableError")) {
    return new SourceUnavailableError(`no token from Entra ID for app ${read.clientId}: ${e.message ?? ""}`, null, read.calls);
  }
  const status = typeof e.statusCode === "number" && e.statusCode > 0 ? e.statusCode : null;
  const code = e.code ?? "";
  const what = `Graph ${read.resource}/delta`;
  if (status === 410 || /syncStateNotFound|resyncRequired/i.test(code)) {
    return new DeltaResyncRequired(`${what}: the delta state is gone (${status ?? "?"} ${code}); run a full resync`, { cause: error });
  }
  if (status === 401) {
    return new SourceConfigError(`${what} rejected the access token (${code})`, 401,
      `check that app ${read.clientId} belongs to tenant ${read.tenantId} and its credential is valid`);
  }
  if (status === 403) {
    return new SourceConfigError(`${what} was forbidden (${code})`, 403,
      `grant application permission ${REQUIRED_PERMISSION[read.resource]} to app ${read.clientId} and give admin consent`);
  }
  if (status === null || status === 429 || status >= 500) {
    return new SourceUnavailableError(`${what} kept failing: ${status ?? "network"} ${code || e.message || ""}`.trim(), status, read.calls);
  }
  return error;
}
