// The CLI's failures, one class per failure a caller (a person or a script) can act on, each with its
// exit code and a stable `code` for --json. The exit codes are a contract: documented in `idsync --help`
// and the README, so scripts may branch on them.
import { ConfigError } from "../config/settings.ts";

export const EXIT = {
  ok: 0,
  /** The server refused the request (any 4xx/5xx but 401), or the command's own check failed. */
  failed: 1,
  /** Unknown command, bad option, missing argument, invalid configuration. */
  usage: 2,
  /** The server did not answer at IDSYNC_URL. */
  unreachable: 3,
  /** IDSYNC_ADMIN_TOKEN is missing, not valid, or not an admin token. */
  auth: 4,
  /** `serve` or `migrate` could not start: data directory in use, port in use, database unreachable. */
  startup: 5,
  /** A bug: an error nobody anticipated (the text output then carries its stack). */
  internal: 70,
} as const;

/** The table `idsync --help` prints; the README's CLI section says the same. */
export const EXIT_CODES_HELP = `Exit codes:
  0   done
  1   the server refused the request (the message says why), or the command's check failed
  2   usage: unknown command, bad option or argument, invalid configuration
  3   cannot reach the server at IDSYNC_URL
  4   authentication: IDSYNC_ADMIN_TOKEN missing, not valid, or not an admin token
  5   serve/migrate cannot start: data directory in use, port in use, database unreachable
  70  internal error (a bug; please report it with the stack printed)
With --json every error is one JSON object on stderr: {"error":{"code":"…","message":"…","status":404}}
("status" only when the server answered). A closed stdout (idsync … | head) ends the command quietly.`;

/** What --json prints for an error, inside {"error": …}. */
export interface ErrorJson {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
}

const CODE_FOR_EXIT: Record<number, string> = { 1: "failed", 2: "usage", 3: "unreachable", 4: "unauthorized", 5: "startup", 70: "internal" };

/** Any failure the CLI explains in one line. `new CliError(message, 2)` is a usage error. */
export class CliError extends Error {
  readonly code: string;
  constructor(message: string, readonly exitCode: number = EXIT.failed, code?: string) {
    super(message);
    this.name = "CliError";
    this.code = code ?? CODE_FOR_EXIT[exitCode] ?? "failed";
  }

  toJson(): ErrorJson {
    return { code: this.code, message: this.message };
  }
}

const CODE_FOR_STATUS: Record<number, string> = {
  400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
  413: "payload_too_large", 422: "unprocessable", 429: "too_many_requests",
};

/** The server answered with an error (a problem document, RFC 9457). 401 is an authentication failure. */
export class ServerRefusedError extends CliError {
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(`${status} ${title}: ${detail}`.trim(), status === 401 ? EXIT.auth : EXIT.failed,
      CODE_FOR_STATUS[status] ?? (status >= 500 ? "server_error" : `http_${status}`));
    this.name = "ServerRefusedError";
  }

  override toJson(): ErrorJson {
    return { code: this.code, message: this.detail || this.title, status: this.status };
  }
}

/** Nothing answered at IDSYNC_URL. */
export class ServerUnreachableError extends CliError {
  constructor(serverUrl: string, reason: string) {
    super(`cannot reach idsync at ${serverUrl} (${reason}); is \`idsync serve\` running? (IDSYNC_URL sets where)`, EXIT.unreachable, "unreachable");
    this.name = "ServerUnreachableError";
  }
}

/** No admin token to send. */
export class MissingAdminTokenError extends CliError {
  constructor() {
    super("IDSYNC_ADMIN_TOKEN is not set: use the admin token `idsync serve` printed, or the one you started it with", EXIT.auth, "no_admin_token");
    this.name = "MissingAdminTokenError";
  }
}

/** `serve` or `migrate` cannot start for a known reason; `code` names it (data_dir_in_use, port_in_use, …). */
export class StartupError extends CliError {
  constructor(message: string, code: string, exitCode: number = EXIT.startup) {
    super(message, exitCode, code);
    this.name = "StartupError";
  }
}

/** Anything else thrown: a bug. Its stack is printed (text output) so it can be reported. */
export class InternalError extends CliError {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original), EXIT.internal, "internal");
    this.name = "InternalError";
  }

  get originalStack(): string | undefined {
    return this.original instanceof Error ? this.original.stack : undefined;
  }
}

/** Any thrown value as the CliError it is reported as: known failures keep their class, the rest is internal. */
export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ConfigError) return new CliError(error.message, EXIT.usage, "config");
  // node:util parseArgs: an unknown option, a missing value
  if (String((error as { code?: unknown } | undefined)?.code).startsWith("ERR_PARSE_ARGS")) {
    return new CliError(`${(error as Error).message} (idsync --help lists the commands and options)`, EXIT.usage);
  }
  return new InternalError(error);
}
