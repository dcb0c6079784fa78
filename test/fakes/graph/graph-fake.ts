// A local HTTPS fake of Microsoft Graph v1.0 (users/delta, groups/delta with members) and of the Entra token
// endpoint, so tests run the real @microsoft/microsoft-graph-client and @azure/identity unchanged. TLS uses the
// committed test-only CA in ./tls (see its README); clients trust it through `caPem`.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { DeltaEngine, type DeltaResource, type EngineKnobs } from "./delta-engine.ts";
import { FakeTenant } from "./tenant-model.ts";
import { openidConfiguration, tokenRequest, type FakeApp } from "./token-endpoint.ts";

const tlsFile = (name: string) => fileURLToPath(new URL(`./tls/${name}`, import.meta.url));

/** One injected failure, consumed by one request to its path. */
export type Fault =
  | { kind: "status"; status: 429 | 500 | 502 | 503 | 504; retryAfter?: string; limitPercentage?: number }
  | { kind: "missingValue" }
  | { kind: "noLinks" };

export interface GraphFakeKnobs extends EngineKnobs {
  /** Application permissions the app has been granted (admin-consented). */
  permissions: Set<string>;
  latencyMs: number;
  /** Sent as `x-ms-throttle-limit-percentage` on every Graph answer when set. */
  limitPercentage: number | null;
  /** The error code of the 410 for forgotten tokens. */
  resyncCode: "syncStateNotFound" | "resyncRequired";
  /** Queue `fault` for the next `times` requests to `path` (e.g. `/v1.0/users/delta`). */
  fault(path: string, fault: Fault, times?: number): void;
  /** Forget every delta and skip token: the next round from any of them gets 410 Gone. */
  expireDeltaTokens(): void;
  /** Make every issued access token invalid (as if expired or revoked). */
  revokeAccessTokens(): void;
}

export interface GraphFakeCalls {
  total: number;
  /** Per request path, without the query. */
  byPath: Map<string, number>;
  /** Requests to /v1.0 (Graph), not to the token endpoint. */
  readonly graph: number;
  path(path: string): number;
  reset(): void;
}

export interface GraphFake {
  readonly url: string;
  readonly tenant: FakeTenant;
  readonly calls: GraphFakeCalls;
  readonly knobs: GraphFakeKnobs;
  /** The app registration; tests may change its secret or drop its certificate. */
  readonly app: FakeApp;
  /** The test CA to trust (PEM), and the app certificate file (key + cert) for ClientCertificateCredential. */
  readonly caPem: string;
  readonly certificateFile: string;
  close(): Promise<void>;
}

export interface GraphFakeOptions {
  tenant?: FakeTenant;
  clientId?: string;
  clientSecret?: string;
  pageSize?: Partial<Record<DeltaResource, number>>;
  membersPerEntry?: number;
}

const PERMISSIONS_FOR: Record<DeltaResource, string[]> = {
  users: ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"],
  groups: ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"],
};

function graphError(status: number, code: string, message: string) {
  return { status, body: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), "request-id": randomUUID(), "client-request-id": randomUUID() } } } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function startGraphFake(options: GraphFakeOptions = {}): Promise<GraphFake> {
  const tenant = options.tenant ?? new FakeTenant();
  const app: FakeApp = { tenantId: tenant.tenantId, tenantDomain: tenant.domain, clientId: options.clientId ?? randomUUID(),
    clientSecret: options.clientSecret ?? randomBytes(24).toString("base64url"), certificatePem: readFileSync(tlsFile("app-cert.pem"), "utf8") };
  const faults = new Map<string, Fault[]>();
  const accessTokens = new Set<string>();
  const byPath = new Map<string, number>();
  const calls: GraphFakeCalls = {
    total: 0, byPath,
    get graph() { return [...byPath].filter(([p]) => p.startsWith("/v1.0/")).reduce((n, [, c]) => n + c, 0); },
    path: (p) => byPath.get(p) ?? 0,
    reset() { this.total = 0; byPath.clear(); },
  };
  let engine: DeltaEngine;
  const knobs: GraphFakeKnobs = {
    pageSize: { users: 200, groups: 100, ...options.pageSize },
    membersPerEntry: options.membersPerEntry ?? 500,
    replayFirstPage: false,
    permissions: new Set(["User.Read.All", "GroupMember.Read.All"]),
    latencyMs: 0,
    limitPercentage: null,
    resyncCode: "syncStateNotFound",
    fault(path, fault, times = 1) {
      const queue = faults.get(path) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(fault);
      faults.set(path, queue);
    },
    expireDeltaTokens: () => engine.expireAll(),
    revokeAccessTokens: () => accessTokens.clear(),
  };
  engine = new DeltaEngine(tenant, knobs);

  let origin = "";
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json; odata.metadata=minimal", ...headers });
    res.end(JSON.stringify(body));
  };

  function deltaAnswer(resource: DeltaResource, url: URL, res: ServerResponse, headers: Record<string, string>) {
    const q = url.searchParams;
    for (const bad of ["$top", "$expand", "$orderby"]) {
      if (q.has(bad)) {
        const e = graphError(400, "Request_UnsupportedQuery", `Unsupported query option '${bad}' for delta.`);
        return send(res, e.status, e.body, headers);
      }
    }
    const skip = q.get("$skiptoken");
    const delta = q.get("$deltatoken");
    if (delta === "latest") {
      return send(res, 200, { "@odata.context": `${origin}/v1.0/$metadata#${resource}`, value: [],
        "@odata.deltaLink": `${origin}/v1.0/${resource}/delta?$deltatoken=${engine.latest(resource, q.get("$select"))}` }, headers);
    }
    const page = skip !== null ? engine.next(resource, skip) : engine.start(resource, q.get("$select"), delta);
    if (!page) {
      const e = graphError(410, knobs.resyncCode, "The sync state generation is not found; generation=149;[highest=157]");
      return send(res, e.status, e.body, { ...headers, location: `${origin}/v1.0/${resource}/delta?$deltatoken=` });
    }
    const body: Record<string, unknown> = { "@odata.context": `${origin}/v1.0/$metadata#${resource}`, value: page.entries };
    if (page.links.nextToken) body["@odata.nextLink"] = `${origin}/v1.0/${resource}/delta?$skiptoken=${page.links.nextToken}`;
    if (page.links.deltaToken) body["@odata.deltaLink"] = `${origin}/v1.0/${resource}/delta?$deltatoken=${page.links.deltaToken}`;
    return send(res, 200, body, headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", origin);
    calls.total += 1;
    byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + 1);
    if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));

    const oidc = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (oidc && req.method === "GET") {
      const a = openidConfiguration(app, origin, oidc[1]!);
      return send(res, a.status, a.body);
    }
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (tokenPath && req.method === "POST") {
      const a = tokenRequest(app, origin, tokenPath[1]!, new URLSearchParams(await readBody(req)), () => {
        const t = `fake.${randomBytes(24).toString("base64url")}`;
        accessTokens.add(t);
        return t;
      });
      return send(res, a.status, a.body);
    }

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !accessTokens.has(bearer)) {
      const e = graphError(401, "InvalidAuthenticationToken", bearer ? "Access token validation failure. Invalid audience." : "Access token is empty.");
      return send(res, e.status, e.body, { "www-authenticate": 'Bearer realm="", error="invalid_token"' });
    }
    const resource = /^\/v1\.0\/(users|groups)\/delta$/.exec(url.pathname)?.[1] as DeltaResource | undefined;
    if (!resource || req.method !== "GET") {
      const e = graphError(404, "Request_ResourceNotFound", `Resource '${url.pathname}' does not exist.`);
      return send(res, e.status, e.body);
    }
    if (!PERMISSIONS_FOR[resource].some((p) => knobs.permissions.has(p))) {
      const e = graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      return send(res, e.status, e.body);
    }
    const headers: Record<string, string> = { "x-ms-resource-unit": "1" };
    if (knobs.limitPercentage !== null) headers["x-ms-throttle-limit-percentage"] = String(knobs.limitPercentage);
    const fault = faults.get(url.pathname)?.shift();
    if (fault?.kind === "status") {
      const h: Record<string, string> = { ...headers };
      if (fault.retryAfter !== undefined) h["retry-after"] = fault.retryAfter;
      if (fault.limitPercentage !== undefined) h["x-ms-throttle-limit-percentage"] = String(fault.limitPercentage);
      if (fault.status === 429) {
        Object.assign(h, { "x-ms-throttle-scope": `Tenant_Application/Read/${app.clientId}/${app.tenantId}`,
          "x-ms-throttle-information": "ResourceUnitLimitExceeded" });
        const e = graphError(429, "TooManyRequests", "Too many requests.");
        return send(res, 429, e.body, h);
      }
      const e = graphError(fault.status, fault.status === 504 ? "GatewayTimeout" : "ServiceUnavailable", "The service is temporarily unavailable.");
      return send(res, fault.status, e.body, h);
    }
    if (fault?.kind === "missingValue") return send(res, 200, { "@odata.context": `${origin}/v1.0/$metadata#${resource}` }, headers);
    if (fault?.kind === "noLinks") return send(res, 200, { "@odata.context": `${origin}/v1.0/$metadata#${resource}`, value: [] }, headers);
    return deltaAnswer(resource, url, res, headers);
  }

  const server: Server = createServer({ key: readFileSync(tlsFile("server-key.pem")), cert: readFileSync(tlsFile("server.pem")) },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        const e = graphError(500, "generalException", String(error));
        if (!res.headersSent) send(res, 500, e.body);
      });
    });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  origin = `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    url: origin, tenant, calls, knobs, app,
    caPem: readFileSync(tlsFile("ca.pem"), "utf8"),
    certificateFile: tlsFile("app.pem"),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
