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
