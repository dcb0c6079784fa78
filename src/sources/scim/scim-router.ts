// The SCIM 2.0 endpoint: express ↔ scimmy-routers, in one place. Around the routers: body parsing
// with our limit, the bearer token → tenant, rate limits, RFC headers (Location, WWW-Authenticate),
// and an error guard that answers every failure as a SCIM error and keeps the connection alive.
import express, { type NextFunction, type Request, type Response } from "express";
import SCIMMYRouters, { SCIMMY } from "scimmy-routers";
import type { Knex } from "knex";
import type { Logger } from "../../log/logger.ts";
import { bearerToken } from "../../accounts/secret-token.ts";
import type { ScimTokenCache } from "../../accounts/scim-token-cache.ts";
import { configureServiceProvider, declareScimResources } from "./schemas.ts";
import { ScimUserResource } from "./resources/user-resource.ts";
import { ScimGroupResource } from "./resources/group-resource.ts";
import { readAssignable } from "./resources/assignable-resources.ts";
import { resourceRequest } from "./resources/resource-request.ts";
import { findResourceType, findSchema, listResourceTypes, listSchemas } from "./discovery.ts";
import type { ScimContext } from "./scim-context.ts";
import { scimError, scimErrorBody } from "./scim-error.ts";
import { bodyFault, MAX_BODY_DEPTH } from "./body-shape.ts";
import { AuthThrottle, clientKey, type AuthThrottleOptions } from "../../accounts/auth-throttle.ts";
import { LeasedBuckets } from "../../limits/leased-buckets.ts";
import type { BucketStore } from "../../limits/bucket-store.ts";
import type { BucketLimit } from "../../limits/token-bucket.ts";

export const SCIM_PATH = "/scim/v2";
export const SCIM_MEDIA_TYPE = "application/scim+json; charset=utf-8";

export interface ScimRouterOptions {
  db: Knex;
  log: Logger;
  /** The server's public base URL; the SCIM base is this plus /scim/v2. */
  publicUrl: string;
  bodyLimitBytes: number;
  maxPageSize: number;
  /** Requests per SCIM token: a runaway client cannot starve other tenants. */
  rateLimit: BucketLimit;
  /** Where the rate limit's and the throttle's buckets live: PostgreSQL for a fleet, this process for the embedded database. */
  limitStore: BucketStore;
  /** Throttling of failed authentications per client IP (token guessing); defaults in auth-throttle.ts. */
  authThrottle?: Partial<AuthThrottleOptions>;
  /** Verified tokens, shared with the admin API, which forgets a connection's tokens when it revokes or rotates them. */
  tokens: ScimTokenCache;
  /** What runs after a write commits (the shell wires reconciles in; absent: the queued requests alone). */
  afterWrite?: ScimWriteHooks;
}

/**
 * The reconcile side of SCIM writes, supplied by the shell (this stage must not import reconcile).
 * `departed` is awaited before the answer to a write that deactivated or deleted users, so when the
 * IdP reads 200 their access is gone; if it throws, the write stays stored and the answer is a 503
 * (the IdP retries, and so does the queued request). Every other write needs nothing here: its
 * reconcile request wakes the queue by NOTIFY when it commits.
 */
export interface ScimWriteHooks {
  departed(accountId: string, idpUserIds: readonly string[]): Promise<void>;
}

/** Seconds an IdP is asked to wait before retrying a write whose departure could not be applied. */
const DEPARTURE_RETRY_AFTER_SECONDS = 5;

type ScimRequest = Request & { scimContext?: ScimContext };

/** A handler that answers `work`'s value (none: an empty body) with `status`, and any failure as a SCIM error. */
function respond(status: (value: unknown) => number, work: (req: ScimRequest) => unknown) {
  return async (req: ScimRequest, res: Response) => {
    try {
      const value = await work(req);
      res.status(status(value));
      if (value === undefined) res.end();
      else res.send(value);
    } catch (error) {
      const { status: code, scimType, message } = error as { status?: number; scimType?: string; message: string };
      const headers: Record<string, string> = code === 503 ? { "Retry-After": String(DEPARTURE_RETRY_AFTER_SECONDS) } : {};
      sendScimError(res, code ?? 500, code ? message : "Internal server error", scimType, headers);
    }
  };
}

function sendScimError(res: Response, status: number, detail: string, scimType?: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).type(SCIM_MEDIA_TYPE).send(scimErrorBody(status, detail, scimType));
}

/** Adds what RFC 7644 asks of responses that scimmy-routers leaves out. */
function rfcResponseHeaders(req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    res.setHeader("Content-Type", SCIM_MEDIA_TYPE);
    if (res.statusCode === 201 && body && typeof body === "object") {
      const location = (body as { meta?: { location?: string } }).meta?.location;
      if (location) res.setHeader("Location", location);
    }
    if (res.statusCode === 401) res.setHeader("WWW-Authenticate", `Bearer realm="idsync SCIM"`);
    return send(body);
  };
  next();
}

/**
 * Runs a resource's write, then the write hooks: the departure reconcile (awaited) for the users the
 * write deactivated or deleted, the queue's wake-up for everything else.
 */
async function writeThenReconcile(req: ScimRequest, options: ScimRouterOptions, resource: object,
  write: () => Promise<unknown>): Promise<unknown> {
  const value = await write();
  const hooks = options.afterWrite;
  if (!hooks) return value;
  const { accountId } = req.scimContext!.scope;
  // only users depart (ScimUserResource.departed); a group's writes, members removed included, go to the queue
  const departed = resource instanceof ScimUserResource ? resource.departed : [];
  if (departed.length > 0) {
    try {
      await hooks.departed(accountId, departed);
    } catch (error) {
      options.log.error({ err: error, accountId, idpUserIds: departed }, "the departure's reconcile failed; the write is stored and its queued request retries");
      throw scimError(503, null, "The change is stored, but the departed user's access could not be revoked yet; retry the request");
    }
  }
  return value;
}

export function createScimRouter(options: ScimRouterOptions): express.Router {
  declareScimResources(ScimUserResource as never, ScimGroupResource as never);
  const baseUrl = `${options.publicUrl}${SCIM_PATH}`;
  const limitStoreDown = (limit: string) => (error: unknown) =>
    options.log.warn({ err: error, limit }, "the shared limit store did not answer; this replica enforces its own share until it does");
  // When the store cannot answer, both limits fall back to this replica's own buckets (fail open, to
  // the per-replica limit). For the rate limit, failing closed would stop provisioning for every tenant
  // over a limit store hiccup, while the token was just verified (the database answers) and the
  // request costs what it always does. For the throttle, a guess cannot succeed while the database is
  // down (no token can be verified), and each replica still throttles its own share.
  const buckets = new LeasedBuckets({ limit: options.rateLimit, store: options.limitStore, name: "scim-token", onStoreDown: limitStoreDown("scim-token") });
  const authThrottle = new AuthThrottle(options.authThrottle, Date.now, { store: options.limitStore, name: "scim-auth", onStoreDown: limitStoreDown("scim-auth") });
  const router = express.Router();

  router.use(rfcResponseHeaders);
  const ok = () => 200;

  // authenticate before parsing bodies, so an unauthenticated caller costs no parse
  router.use(async (req: ScimRequest, res, next) => {
    const client = clientKey(req);
    try {
      // inside the try: a throttle that cannot answer is a SCIM 500 too, never express's HTML page
      const throttled = await authThrottle.retryAfter(client);
      if (throttled > 0) return sendScimError(res, 429, "Too many failed authentications from this client; retry after the delay given", undefined, { "Retry-After": String(throttled) });
      const token = bearerToken(req.get("authorization"));
      const principal = token ? await options.tokens.verify(options.db, token) : undefined;
      if (!principal) {
        await authThrottle.fail(client);
        return sendScimError(res, 401, "A valid bearer token is required (Authorization: Bearer <SCIM token>)");
      }
      const wait = await buckets.take(principal.tokenId);
      if (wait > 0) return sendScimError(res, 429, "Too many requests for this SCIM token; retry after the delay given", undefined, { "Retry-After": String(wait) });
      req.scimContext = { scope: principal, db: options.db, baseUrl, maxPageSize: options.maxPageSize, log: options.log };
      next();
    } catch (error) {
      options.log.error({ err: error }, "SCIM authentication failed");
      sendScimError(res, 500, "Internal server error");
    }
  });

  router.use(express.json({ type: ["application/scim+json", "application/json"], limit: options.bodyLimitBytes, strict: false }));
  // NUL can be stored in no PostgreSQL text, and the embedded database's wire adapter does not survive
  // one in a parameter: refused here, in SCIM's form, before any query is built
  router.use((req: Request, res: Response, next: NextFunction) => {
    let url = req.url;
    try {
      url = decodeURIComponent(req.url);
    } catch {
      // a malformed escape: the filter or path parser answers it
    }
    const fault = url.includes("\u0000") ? { kind: "nul" as const } : bodyFault(req.body);
    if (fault?.kind === "nul") return sendScimError(res, 400, "NUL characters (U+0000) are not allowed in SCIM values", "invalidValue");
    if (fault?.kind === "tooDeep") {
      return sendScimError(res, 400, `The request body nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep`, "invalidSyntax");
    }
    next();
  });

  // The resource verbs go straight to the resource classes: through scimmy-routers each request walks
  // a dozen nested routers and resets every resource's basepath (~10 % of a GET's CPU, measured).
  // /Bulk, /Me, /.search and unknown endpoints stay with scimmy-routers below.
  for (const [endpoint, Resource] of [["Users", ScimUserResource], ["Groups", ScimGroupResource]] as const) {
    router.get(`/${endpoint}`, respond(ok, (req) => new Resource(req.query).read(req.scimContext)));
    router.get(`/${endpoint}/:id`, respond(ok, (req) => new Resource(String(req.params.id), req.query).read(req.scimContext)));
    router.post(`/${endpoint}`, respond(() => 201, (req) => {
      const resource = new Resource(req.query);
      return writeThenReconcile(req, options, resource, () => resource.write(req.body, req.scimContext));
    }));
    router.put(`/${endpoint}/:id`, respond(ok, (req) => {
      const resource = new Resource(String(req.params.id), req.query);
      return writeThenReconcile(req, options, resource, () => resource.write(req.body, req.scimContext));
    }));
    router.patch(`/${endpoint}/:id`, respond((v) => (v === undefined ? 204 : 200), (req) => {
      const resource = new Resource(String(req.params.id), req.query);
      return writeThenReconcile(req, options, resource, () => resource.patch(req.body, req.scimContext));
    }));
    router.delete(`/${endpoint}/:id`, respond(() => 204, async (req) => {
      const resource = new Resource(String(req.params.id));
      await writeThenReconcile(req, options, resource, () => resource.dispose(req.scimContext));
      return undefined;
    }));
  }

  // what an account can assign (Okta's entitlements guide), read-only
  for (const endpoint of ["Roles", "Entitlements"] as const) {
    router.get(`/${endpoint}`, respond(ok, (req) => readAssignable(endpoint, resourceRequest(req.query, undefined), req.scimContext!)));
    router.get(`/${endpoint}/:id`, respond(ok, (req) => readAssignable(endpoint, resourceRequest(String(req.params.id), req.query), req.scimContext!)));
  }
  // discovery, every resource type and schema by name (scimmy-routers answers /ResourceTypes/{name} with 404)
  router.get("/ResourceTypes", respond(ok, () => listResourceTypes(baseUrl)));
  router.get("/ResourceTypes/:name", respond(ok, (req) => findResourceType(baseUrl, String(req.params.name))));
  router.get("/Schemas", respond(ok, () => listSchemas(baseUrl)));
  router.get("/Schemas/:id", respond(ok, (req) => findSchema(baseUrl, String(req.params.id))));

  const routers = new SCIMMYRouters({
    type: "bearer",
    // authentication already happened above; this only confirms a context exists
    handler: (req: ScimRequest) => {
      if (!req.scimContext) throw new Error("A valid bearer token is required");
      return undefined as never;
    },
    context: (req: ScimRequest) => req.scimContext,
    baseUri: () => options.publicUrl,
  } as never);
  configureServiceProvider(options.maxPageSize);
  router.use(routers);

  // pre-router failures (bad JSON, too large) and the routers' next(err) after a 5xx they already sent
  router.use((error: { status?: number; type?: string; message?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (error.type === "entity.parse.failed") return sendScimError(res, 400, `The request body is not valid JSON: ${error.message}`, "invalidSyntax");
    if (error.type === "entity.too.large") return sendScimError(res, 413, `The request body exceeds ${options.bodyLimitBytes} bytes`);
    if (error.status && error.status >= 400 && error.status < 500) return sendScimError(res, error.status, error.message ?? "Bad request");
    options.log.error({ err: error }, "SCIM request failed");
    sendScimError(res, 500, "Internal server error");
  });
  return router;
}

export { SCIMMY };
