// pino, JSON lines. Secrets never reach a log line: the Authorization header and anything named
// like a token, secret or key is censored wherever it appears in a logged object.
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "adminToken",
  "*.adminToken",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { service: "idsync" } }, destination);
}

/**
 * Where `idsync serve` logs: stdout, written asynchronously. pino's default writes each line with its
 * own blocking write(2), one per answered request for the access log alone (~5 % of a SCIM PATCH's
 * CPU, bench/run.ts profile). Asynchronous, lines that arrive while a write is under way go out
 * together with the next one; an idle server still writes each line at once. What is buffered is
 * flushed when the process exits (pino registers the flush), but not on SIGKILL.
 */
export function serverLogDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}
