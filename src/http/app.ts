// The HTTP application: health, SCIM at /scim/v2, the admin API at /admin/v1.
import express from "express";
import helmet from "helmet";
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/settings.ts";
import { pendingMigrations } from "../db/migrations.ts";
import { createScimRouter, SCIM_PATH } from "../sources/scim/scim-router.ts";
import { ADMIN_PATH, createAdminRouter } from "./admin/admin-router.ts";
import { statusRouter } from "./status/status-router.ts";
import { scimWriteHooks } from "./scim-departures.ts";
import { accessLog } from "./access-log.ts";
import type { PullScheduler } from "../scheduler/pull-scheduler.ts";
import { measureDatabase, measureSchedules, registry, scimRequests, scimRouteLabel } from "../metrics/metrics.ts";
import { listSchedules } from "../scheduler/schedule-list.ts";
import type { BucketStore } from "../limits/bucket-store.ts";
import { PostgresBucketStore } from "../limits/postgres-bucket-store.ts";
import { ScimTokenCache } from "../accounts/scim-token-cache.ts";

export interface AppOptions {
  db: Knex;
  log: Logger;
  settings: Pick<Settings, "scimBodyLimitBytes" | "scimMaxPageSize" | "scimRateLimit" | "trustProxy" | "fullReconcileSchedule">;
  publicUrl: string;
  /** Runs pulls for `idsync sync` (absent: the admin API offers no sync). */
  pulls?: PullScheduler;
  /**
   * Where rate limits and failed-authentication budgets live. Default: the `limit_buckets` table of
   * `db`, shared by every replica on it. The embedded database passes this process's own store (one
   * process holds it, so that is the whole fleet, at no database write).
   */
  limitStore?: BucketStore;
  /**
   * Verified SCIM tokens. Default: a cache of this app's own, forgotten by its admin API's revocations
   * only; `idsync serve` passes one that also hears other processes' (NOTIFY), as a fleet needs.
   */
  scimTokens?: ScimTokenCache;
  /** False: a SCIM departure is answered before its reconcile, which the queue runs (tests of the queued path). Default true. */
  reconcileDepartures?: boolean;
}

/**
 * Security headers on every answer (nosniff, frame-ancestors none, a strict CSP for the status page…),
 * fitted to how the request arrived. HSTS and the CSP's upgrade-insecure-requests go only with HTTPS:
 * over plain HTTP from anywhere but localhost a browser would upgrade the sign-in form to https, where
 * nothing listens, and the form would do nothing. (HSTS over plain HTTP is ignored anyway, RFC 6797 §8.1.)
 */
function securityHeaders(): express.RequestHandler {
  // nothing of idsync is meant to be framed: the status page's Approve button must not be clickjacked
  const framing = { frameAncestors: ["'none'"] };
  const overHttps = helmet({ contentSecurityPolicy: { directives: framing }, xFrameOptions: { action: "deny" } });
  const overHttp = helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: { directives: { ...framing, upgradeInsecureRequests: null } },
    xFrameOptions: { action: "deny" },
  });
  // helmet's headers depend on nothing in the request: recorded once per variant and set in one loop,
  // instead of a dozen middleware calls per request
  const https = recordedHeaders(overHttps);
  const http = recordedHeaders(overHttp);
  return (req, res, next) => {
    for (const [name, value] of req.secure ? https : http) res.setHeader(name, value);
    res.removeHeader("X-Powered-By");
    next();
  };
}

/** The headers a helmet middleware sets, recorded on a stand-in response (helmet's middleware is synchronous). */
function recordedHeaders(middleware: express.RequestHandler): ReadonlyArray<[string, string]> {
  const headers: Array<[string, string]> = [];
  let done = false;
  const res = { setHeader: (name: string, value: unknown) => headers.push([name, String(value)]), removeHeader: () => undefined };
  void middleware({} as express.Request, res as unknown as express.Response, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error("helmet's middleware did not finish synchronously; its headers cannot be recorded");
  return headers;
}

export function createApp({ db, log, settings, publicUrl, pulls, limitStore = new PostgresBucketStore(db), scimTokens = new ScimTokenCache(), reconcileDepartures = true }: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // req.secure and req.host believe X-Forwarded-Proto/-Host only from the proxies named here
  const { trustProxy } = settings;
  app.set("trust proxy", typeof trustProxy === "object" ? [...trustProxy] : trustProxy);
  app.use(securityHeaders());
  app.set("etag", false);
  app.use(accessLog(log));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) return res.status(503).json({ status: "migrations pending", pending });
      res.json({ status: "ready" });
    } catch (error) {
      log.warn({ err: error }, "readiness check failed");
      res.status(503).json({ status: "database unreachable" });
    }
  });

  measureDatabase(db);
  measureSchedules(() => listSchedules(db, settings.fullReconcileSchedule));
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(SCIM_PATH, (req, res, next) => {
    const stop = scimRequests.startTimer({ method: req.method, route: scimRouteLabel(req.path) });
    res.on("finish", () => stop({ status: String(res.statusCode) }));
    next();
  });
  app.use(SCIM_PATH, createScimRouter({
    db, log, publicUrl, bodyLimitBytes: settings.scimBodyLimitBytes, maxPageSize: settings.scimMaxPageSize,
    rateLimit: settings.scimRateLimit, limitStore, tokens: scimTokens, afterWrite: scimWriteHooks(db, log, { reconcileDepartures }),
  }));
  app.use(ADMIN_PATH, createAdminRouter({ db, log, publicUrl, pulls, limitStore, scimTokens }));
  app.use(statusRouter(db, settings.fullReconcileSchedule));
  app.use((_req, res) => {
    res.status(404).json({ status: 404, detail: "Not found. SCIM is served at /scim/v2, the admin API at /admin/v1." });
  });
  return app;
}
