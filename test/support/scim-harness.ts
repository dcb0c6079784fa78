// A real idsync HTTP server on a loopback port, on the test database, with accounts and SCIM tokens
// made through the same functions the admin API uses. Tests speak HTTP to it like Okta and Entra do.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { loadSettings } from "../../src/config/settings.ts";
import { createLogger, type Logger } from "../../src/log/logger.ts";
import { createApp } from "../../src/http/app.ts";
import { createHttpServer } from "../../src/http/http-server.ts";
import { createAccount } from "../../src/accounts/accounts.ts";
import { createScimConnection } from "../../src/accounts/connections.ts";
import { createAdminToken } from "../../src/accounts/admin-tokens.ts";
import { PullScheduler } from "../../src/scheduler/pull-scheduler.ts";
import { MemoryBucketStore } from "../../src/limits/bucket-store.ts";
import { openTestDatabase, type TestDatabase } from "./test-database.ts";

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary SCIM JSON
}

export interface ScimClient {
  readonly token: string;
  readonly connectionId: string;
  readonly accountSlug: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ScimResponse>;
  get(path: string): Promise<ScimResponse>;
  post(path: string, body: unknown): Promise<ScimResponse>;
  put(path: string, body: unknown): Promise<ScimResponse>;
  patch(path: string, body: unknown): Promise<ScimResponse>;
  delete(path: string): Promise<ScimResponse>;
}

export interface ScimHarness {
  readonly db: TestDatabase;
  readonly url: string;
  readonly scimUrl: string;
  readonly adminToken: string;
  /** Creates an account with a SCIM connection and returns a client holding its token. */
  tenant(slug: string, domains?: string[]): Promise<ScimClient>;
  close(): Promise<void>;
}

export function scimClient(scimUrl: string, token: string, meta: { connectionId: string; accountSlug: string }): ScimClient {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse> => {
    const response = await fetch(`${scimUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: "application/scim+json", ...(body === undefined ? {} : { "content-type": "application/scim+json" }), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    token, ...meta, request,
    get: (p) => request("GET", p),
    post: (p, b) => request("POST", p, b),
    put: (p, b) => request("PUT", p, b),
    patch: (p, b) => request("PATCH", p, b),
    delete: (p) => request("DELETE", p),
  };
}

/**
 * `host`: where to listen (loopback unless a test needs another address, e.g. "0.0.0.0"); `url` stays loopback.
 * `pulls`: the admin API runs pulls on request (`idsync sync`), as in `idsync serve`; never on a schedule.
 * `departures: false`: a SCIM deactivation or delete is answered before its reconcile and left to the
 * queue like any other change (for tests of the reconciler's queued, scoped and braked paths).
 */
export async function startScimHarness(options: {
  env?: Record<string, string>; log?: Logger; host?: string; pulls?: boolean; departures?: boolean;
} = {}): Promise<ScimHarness> {
  const db = await openTestDatabase();
  const settings = loadSettings({ LOG_LEVEL: "silent", ...options.env });
  const server = createHttpServer();
  server.listen(0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const log = options.log ?? createLogger("silent");
  const pulls = options.pulls ? new PullScheduler({ db: db.knex, log }) : undefined;
  // limits as `idsync serve` keeps them: in PostgreSQL (shared), in this process on the embedded database
  const limitStore = db.kind === "pglite" ? new MemoryBucketStore() : undefined;
  server.on("request", createApp({ db: db.knex, log, settings, publicUrl: url, pulls, limitStore, reconcileDepartures: options.departures ?? true }));
  const scimUrl = `${url}/scim/v2`;
  const adminToken = await createAdminToken(db.knex, "test");
  return {
    db, url, scimUrl, adminToken,
    async tenant(slug, domains = [`${slug}.example.com`]) {
      await createAccount(db.knex, { slug, domains, ownerEmail: `owner@${slug}.example.com` }, "test");
      const issued = await createScimConnection(db.knex, slug, undefined, "test");
      return scimClient(scimUrl, issued.token, { connectionId: issued.connection.id, accountSlug: slug });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pulls?.stop();
      await db.close();
    },
  };
}
