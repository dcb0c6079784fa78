// The access log: one line per answered request, with its id (X-Request-Id, given or new), method,
// URL, status and time. The lines are pino-http's ("request completed" at info, "request errored"
// with an `err` at error for a 5xx), written without it: pino-http builds a child logger per request,
// serialising the request into its bindings before anything is known to be worth logging — ~4 % of
// a SCIM lookup's CPU (bench/run.ts profile), for a line that is one object and two strings.
// No headers are logged, so no credentials to redact.
import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "../log/logger.ts";

export function accessLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    const given = req.headers["x-request-id"];
    const id = (typeof given === "string" && given.slice(0, 128)) || randomUUID();
    res.setHeader("X-Request-Id", id);
    (req as { id?: string }).id = id;
    // read now: a mounted router rewrites req.url while it handles the request
    const { method, url } = req;
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      res.off("finish", done);
      res.off("close", done);
      const { statusCode } = res;
      const line = { req: { id, method, url }, res: { statusCode } };
      const responseTime = Date.now() - started;
      if (statusCode >= 500) log.error({ ...line, err: new Error(`failed with status code ${statusCode}`), responseTime }, "request errored");
      else log.info({ ...line, responseTime }, "request completed");
    };
    // "close" alone: the client went away before the answer was sent
    res.on("finish", done);
    res.on("close", done);
    next();
  };
}
