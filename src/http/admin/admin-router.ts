// The admin API (/admin/v1): what operators and the CLI use. Bearer admin tokens, JSON in and out.
import express, { type NextFunction, type Request, type Response } from "express";
import type { Knex } from "knex";
import type { Logger } from "../../log/logger.ts";
import { bearerToken } from "../../accounts/secret-token.ts";
import { adminTokenRefusal, verifyAdminToken, type AdminPrincipal } from "../../accounts/admin-tokens.ts";
import { addDomain, createAccount, findAccount, listAccounts, listDomains } from "../../accounts/accounts.ts";
import { checkConnectionConfig } from "../../sources/connection-config.ts";
import type { ScimTokenCache } from "../../accounts/scim-token-cache.ts";
import { createPulledConnection, createScimConnection, listConnections, revokeScimTokens, rotateScimToken } from "../../accounts/connections.ts";
import type { PullScheduler } from "../../scheduler/pull-scheduler.ts";
import { pullRoutes } from "./pull-routes.ts";
import { webhookRoutes } from "./webhook-routes.ts";
import { openApiRoute } from "./openapi.ts";
import { BadRequestError, problemStatus, sendProblem } from "../problem.ts";
import { SCIM_PATH } from "../../sources/scim/scim-router.ts";
import { reconcileRoutes } from "./reconcile-routes.ts";
import { AuthThrottle, clientKey } from "../../accounts/auth-throttle.ts";
import type { BucketStore } from "../../limits/bucket-store.ts";

export const ADMIN_PATH = "/admin/v1";

type AdminRequest = Request & { admin?: AdminPrincipal };

function stringList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new BadRequestError(`${name} must be an array of strings`);
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new BadRequestError(`${name} must be a string`);
  return value;
}

const actorOf = (req: AdminRequest) => `operator:${req.admin!.name}`;

/**
 * `limitStore`: where the failed-authentication budgets live (PostgreSQL for a fleet, this process for
 * the embedded database). `scimTokens`: the SCIM endpoint's verified tokens, forgotten here as soon as
 * a revocation or rotation commits, so this process refuses a revoked token from the next request on.
 */
export function createAdminRouter(options: { db: Knex; log: Logger; publicUrl: string; limitStore: BucketStore; scimTokens: ScimTokenCache; pulls?: PullScheduler }): express.Router {
  const { db } = options;
  const router = express.Router();
  const scimBaseUrl = `${options.publicUrl}${SCIM_PATH}`;

  // GET /openapi.json: the API's description, readable without an admin token
  router.use(openApiRoute());
  // failed authentications per client IP (token guessing), shared by the fleet. If the store cannot
  // answer, each replica throttles its own share (fail open to the per-replica limit): a guess cannot
  // succeed while the database is down, since no admin token can be verified then either.
  const authThrottle = new AuthThrottle({}, Date.now, {
    store: options.limitStore, name: "admin-auth",
    onStoreDown: (error) => options.log.warn({ err: error, limit: "admin-auth" }, "the shared limit store did not answer; this replica enforces its own share until it does"),
  });
  router.use(async (req: AdminRequest, res, next) => {
    const client = clientKey(req);
    const throttled = await authThrottle.retryAfter(client);
    if (throttled > 0) {
      res.setHeader("Retry-After", String(throttled));
      return sendProblem(res, 429, "Too Many Requests", "Too many failed authentications from this client; retry after the delay given");
    }
    const token = bearerToken(req.get("authorization"));
    try {
      req.admin = token ? await verifyAdminToken(db, token) : undefined;
    } catch (error) {
      return next(error);
    }
    if (!req.admin) {
      await authThrottle.fail(client);
      res.setHeader("WWW-Authenticate", `Bearer realm="idsync admin"`);
      return sendProblem(res, 401, "Unauthorized", adminTokenRefusal(token));
    }
    next();
  });
  router.use(express.json({ limit: "1mb" }));

  router.get("/accounts", async (_req, res) => {
    res.json({ accounts: await listAccounts(db) });
  });

  router.post("/accounts", async (req: AdminRequest, res) => {
    const body = req.body ?? {};
    const slug = optionalString(body.slug, "slug");
    if (!slug) throw new BadRequestError("slug is required");
    const account = await createAccount(db, {
      slug, name: optionalString(body.name, "name"), domains: stringList(body.domains, "domains"), ownerEmail: optionalString(body.ownerEmail, "ownerEmail"),
    }, actorOf(req));
    res.status(201).json({ account });
  });

  router.get("/accounts/:slug/domains", async (req, res) => {
    res.json({ domains: await listDomains(db, String(req.params.slug)) });
  });

  router.post("/accounts/:slug/domains", async (req: AdminRequest, res) => {
    const name = optionalString(req.body?.name, "name");
    if (!name) throw new BadRequestError("name is required");
    res.status(201).json({ domain: await addDomain(db, String(req.params.slug), name, actorOf(req)) });
  });

  router.get("/accounts/:slug/connections", async (req, res) => {
    const account = await findAccount(db, String(req.params.slug));
    res.json({ connections: await listConnections(db, account.id) });
  });

  router.post("/accounts/:slug/connections", async (req: AdminRequest, res) => {
    const kind = optionalString(req.body?.kind, "kind") ?? "scim";
    if (kind === "google" || kind === "graph") {
      const settings = req.body?.config ?? {};
      checkConnectionConfig(kind, settings); // the source's own check, before anything is stored
      const connection = await createPulledConnection(db, String(req.params.slug), kind, optionalString(req.body?.name, "name"), settings, actorOf(req));
      return res.status(201).json({ connection });
    }
    if (kind !== "scim") throw new BadRequestError(`kind must be scim, google or graph, not "${kind}"`);
    const issued = await createScimConnection(db, String(req.params.slug), optionalString(req.body?.name, "name"), actorOf(req));
    res.status(201).json({ connection: issued.connection, scimBaseUrl, token: issued.token, tokenPrefix: issued.tokenPrefix });
  });

  router.post("/connections/:id/tokens/rotate", async (req: AdminRequest, res) => {
    const grace = req.body?.graceMinutes ?? 60;
    if (!Number.isInteger(grace) || grace < 0 || grace > 60 * 24 * 30) throw new BadRequestError("graceMinutes must be a whole number from 0 to 43200");
    const issued = await rotateScimToken(db, String(req.params.id), grace, actorOf(req));
    options.scimTokens.forgetConnection(issued.connection.id);
    res.status(201).json({ connection: issued.connection, scimBaseUrl, token: issued.token, tokenPrefix: issued.tokenPrefix, previousTokensExpireInMinutes: grace });
  });

  router.post("/connections/:id/tokens/revoke", async (req: AdminRequest, res) => {
    const revoked = await revokeScimTokens(db, String(req.params.id), actorOf(req));
    options.scimTokens.forgetConnection(String(req.params.id).toLowerCase());
    res.json({ revoked });
  });

  router.use(reconcileRoutes(db, actorOf));
  router.use(webhookRoutes(db, actorOf));
  if (options.pulls) router.use(pullRoutes(db, options.pulls));

  router.use((_req, res) => sendProblem(res, 404, "Not Found", "No such admin endpoint"));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = problemStatus(error);
    if (known) return sendProblem(res, known.status, known.title, (error as Error).message);
    options.log.error({ err: error }, "admin request failed");
    sendProblem(res, 500, "Internal Server Error", "The request failed; see the server log");
  });
  return router;
}
