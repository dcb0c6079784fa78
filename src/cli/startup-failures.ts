// Why `serve` or `migrate` could not start, in one line an operator can act on, for the failures we
// know: anything else stays an internal error with its stack.
import type { Settings } from "../config/settings.ts";
import { DataDirInUseError } from "../db/data-dir-lock.ts";
import { describePostgres } from "../db/database.ts";
import { AdminTokenTooShortError } from "../accounts/admin-tokens.ts";
import { CliError, EXIT, StartupError } from "./cli-errors.ts";

interface SystemError { code?: string; syscall?: string; port?: number; address?: string; message?: string; name?: string; errors?: unknown[] }

/** Socket failures of a database connection: nothing (or the wrong thing) is listening there. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"]);
/** PostgreSQL SQLSTATEs that mean "you may not connect here": bad credentials, no such database. */
const CONNECT_REFUSED_STATES = new Set(["28000", "28P01", "3D000"]);

export function explainStartupFailure(error: unknown, settings: Settings): CliError | undefined {
  if (error instanceof DataDirInUseError) return new StartupError(error.message, "data_dir_in_use");
  if (error instanceof AdminTokenTooShortError) return new CliError(error.message, EXIT.usage, "config");
  const e = (error ?? {}) as SystemError;
  if (e.syscall === "listen" && e.code === "EADDRINUSE") {
    return new StartupError(`port ${settings.port} on ${settings.host} is already in use by another process: stop it, or set PORT to a free port`, "port_in_use");
  }
  if (e.syscall === "listen" && e.code === "EACCES") {
    return new StartupError(`not allowed to listen on port ${settings.port} on ${settings.host}: set PORT to a port above 1023`, "port_not_allowed");
  }
  if (settings.databaseUrl && (NETWORK_CODES.has(e.code ?? "") || CONNECT_REFUSED_STATES.has(e.code ?? "") || e.name === "KnexTimeoutError")) {
    // an AggregateError (every address of a host name refused) has no message of its own
    const reason = e.message || e.code || "no answer";
    return new StartupError(`cannot connect to ${describePostgres(settings.databaseUrl)} (${reason}): is it running, and is DATABASE_URL right?`, "database_unreachable");
  }
  return undefined;
}
