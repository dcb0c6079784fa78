// A local Google Admin SDK Directory API (users.list, groups.list/get, members.list) and OAuth token
// endpoint on node:http, faithful where idsync's pull depends on it (SYNC-APIS.md §1.10): opaque page
// tokens, page-size bounds, omitted empty collections, `fields`, bearer and admin checks, Google's
// error bodies, and knobs for faults, latency and a per-subject quota. Tests drive the real
// `@googleapis/admin` client against it.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  emptyDirectory, findGroup, renderGroup, renderMembers, renderUser, type FakeDirectory, type FakeUser,
} from "./fake-directory.ts";
import { FaultQueue, faultResponse, SubjectQuota, type GoogleFault, type GoogleFakeKnobs, type QuotaKnob } from "./fake-knobs.ts";
import { grantToken, type FakeServiceAccount, type IssuedToken } from "./fake-token-endpoint.ts";
import { parseFields, selectFields } from "./field-selection.ts";
import {
  apiError, insufficientScopes, invalidCredentials, invalidInput, loginRequired, notAuthorized, notFound, type FakeErrorResponse,
} from "./google-error-bodies.ts";

const SCOPE = "https://www.googleapis.com/auth/admin.directory.";
export const FAKE_DIRECTORY_SCOPES = [`${SCOPE}group.readonly`, `${SCOPE}group.member.readonly`, `${SCOPE}user.readonly`];
const API = "/admin/directory/v1";

export interface GoogleFakeOptions {
  readonly directory?: FakeDirectory;
  /** Needed for the token endpoint; without it only `staticTokens` work. */
  readonly serviceAccount?: FakeServiceAccount;
  /** Scopes granted by domain-wide delegation; the three directory read scopes by default. */
  readonly delegatedScopes?: string[];
  readonly serviceAccountIsAdmin?: boolean;
  /** Pre-issued admin access tokens (token → subject) for clients that skip the token endpoint. */
  readonly staticTokens?: Record<string, string>;
  readonly latencyMs?: number;
  readonly quota?: QuotaKnob | null;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly status: number;
  /** The request's headers as received (lower-case names): which HTTP client sent it shows here. */
  readonly headers: http.IncomingHttpHeaders;
}

export interface FakeCalls {
  /** Every HTTP request, token requests included. */
  total: number;
  /** Directory API requests only. */
  api: number;
  /** Most Directory API requests in flight at once. */
  maxConcurrent: number;
  readonly byPath: Map<string, number>;
  /** Requests whose path matches a suffix (`users`, `members`, `token`) or a RegExp. */
  matching(pattern: string | RegExp): number;
}

export interface GoogleFake {
  readonly url: string;
  readonly directory: FakeDirectory;
  readonly calls: FakeCalls;
  readonly requests: RecordedRequest[];
  readonly knobs: GoogleFakeKnobs;
  /** 403 usageLimits answers the quota bucket gave. */
  readonly quotaRejections: () => number;
  close(): Promise<void>;
}

interface PageState {
  readonly scope: string;
  readonly offset: number;
  readonly rejectWith?: 400 | 404;
  /** Answers with this same token again: a chain that never ends. */
  readonly loops?: boolean;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** No answer at all: the connection is destroyed (the `connectionReset` fault). */
  readonly reset?: true;
}

export async function startGoogleFake(options: GoogleFakeOptions = {}): Promise<GoogleFake> {
  const directory = options.directory ?? emptyDirectory();
  const faults = new FaultQueue();
  const quota = new SubjectQuota();
  const tokens = new Map<string, IssuedToken & { revoked?: boolean }>();
  const pages = new Map<string, PageState>();
  const requests: RecordedRequest[] = [];
  const byPath = new Map<string, number>();
  const calls: FakeCalls = {
    total: 0, api: 0, maxConcurrent: 0, byPath,
    matching: (pattern) => [...byPath].filter(([path]) => typeof pattern === "string" ? path.endsWith(`/${pattern}`) || path === pattern : pattern.test(path))
      .reduce((sum, [, n]) => sum + n, 0),
  };
  for (const [token, subject] of Object.entries(options.staticTokens ?? {})) {
    tokens.set(token, { subject, scopes: FAKE_DIRECTORY_SCOPES, expiresAt: Number.MAX_SAFE_INTEGER });
  }
  const staticSubjects = new Set(Object.values(options.staticTokens ?? {}));
  const knobs: GoogleFakeKnobs = {
    latencyMs: options.latencyMs ?? 0,
    quota: options.quota ?? null,
    delegatedScopes: options.delegatedScopes ?? [...FAKE_DIRECTORY_SCOPES],
    serviceAccountIsAdmin: options.serviceAccountIsAdmin ?? false,
    fail: (pattern, ...list: GoogleFault[]) => faults.add(pattern, list),
    revokeTokens: () => { for (const t of tokens.values()) t.revoked = true; },
    clearFaults: () => faults.clear(),
    onRequest: null,
  };

  function isAdmin(subject: string): boolean {
    if (staticSubjects.has(subject)) return true;
    if (subject === options.serviceAccount?.clientEmail) return knobs.serviceAccountIsAdmin;
    const user = directory.users.find((u) => u.primaryEmail === subject);
    return Boolean(user?.isAdmin && !user.suspended && !user.deletionTime);
  }

  function checkCustomer(q: URLSearchParams): FakeErrorResponse | null {
    const customer = q.get("customer"), domain = q.get("domain");
    if (customer === null && domain === null) return apiError(400, "Bad Request", "badRequest");
    if (customer !== null && customer !== "my_customer" && customer !== directory.customerId) return notFound("customer");
    if (customer === null && domain !== directory.domain) return notAuthorized();
    return null;
  }

  function pageSize(q: URLSearchParams, max: number, fallback: number): number | FakeErrorResponse {
    const raw = q.get("maxResults");
    if (raw === null) return fallback;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 && n <= max ? n : invalidInput("maxResults");
  }

  /** One page of a listing: items, `nextPageToken`, and the fault that may reshape it. */
  function listPage(key: string, kind: string, items: unknown[], q: URLSearchParams, scope: string, size: number, fault: GoogleFault | undefined): Answer {
    let offset = 0;
    const token = q.get("pageToken");
    if (token) {
      const state = pages.get(token);
      if (state?.rejectWith === 404) return notFound("pageToken");
      if (!state || state.rejectWith === 400 || state.scope !== scope) return invalidInput("pageToken");
      offset = state.offset;
      if (state.loops) return answer(q, { kind, [key]: items.slice(offset, offset + size), nextPageToken: token });
    }
    if (fault === "loopingChain") {
      const next = crypto.randomBytes(18).toString("base64url");
      pages.set(next, { scope, offset, loops: true });
      return answer(q, { kind, [key]: items.slice(offset, offset + size), nextPageToken: next });
    }
    if (fault === "emptyPage") return answer(q, { kind, etag: `"${kind}"` });
    const slice = items.slice(offset, offset + size);
    const body: Record<string, unknown> = { kind, etag: `"etag-${scope.length}-${offset}"` };
    if (slice.length > 0) body[key] = slice;
    const more = offset + size < items.length;
    const chainBreak = fault === "truncatedChain" ? 400 : fault === "truncatedChain404" ? 404 : undefined;
    if (more || chainBreak) {
      const next = crypto.randomBytes(18).toString("base64url");
      pages.set(next, { scope, offset: offset + size, ...(chainBreak ? { rejectWith: chainBreak } : {}) });
      body.nextPageToken = next;
    }
    const shaped = answer(q, body);
    if (fault === "missingKey" && shaped.body && typeof shaped.body === "object") delete (shaped.body as Record<string, unknown>)[key];
    return shaped;
  }

  function answer(q: URLSearchParams, body: unknown): Answer {
    const fields = q.get("fields");
    if (!fields) return { status: 200, body };
    try {
      return { status: 200, body: selectFields(body, parseFields(fields)) };
    } catch {
      return invalidInput(`Invalid field selection ${fields}`);
    }
  }

  function listUsers(q: URLSearchParams, fault: GoogleFault | undefined): Answer {
    const bad = checkCustomer(q);
    if (bad) return bad;
    const size = pageSize(q, 500, 100);
    if (typeof size !== "number") return size;
    const deleted = q.get("showDeleted") === "true";
    const filters: Array<(u: FakeUser) => boolean> = [(u) => Boolean(u.deletionTime) === deleted];
    for (const term of (q.get("query") ?? "").split(/\s+/).filter(Boolean)) {
      const m = /^(isSuspended|isArchived)=(true|false)$/.exec(term);
      if (!m) return invalidInput("query");
      const want = m[2] === "true";
      filters.push(m[1] === "isSuspended" ? (u) => Boolean(u.suspended) === want : (u) => Boolean(u.archived) === want);
    }
    const items = directory.users.filter((u) => filters.every((f) => f(u))).map((u) => renderUser(directory, u));
    const scope = `users|${q.get("query") ?? ""}|${deleted}`;
    return listPage("users", "admin#directory#users", items, q, scope, size, fault);
  }

  function listGroups(q: URLSearchParams, fault: GoogleFault | undefined): Answer {
    const bad = checkCustomer(q);
    if (bad) return bad;
    const size = pageSize(q, 200, 200);
    if (typeof size !== "number") return size;
    let groups = directory.groups;
    for (const term of (q.get("query") ?? "").match(/\w+:'[^']*'|\S+/g) ?? []) {
      const email = /^email:(.+)$/.exec(term), name = /^name:'(.*)'$/.exec(term);
      if (email?.[1]) {
        const pattern = email[1].toLowerCase();
        groups = groups.filter((g) => pattern.endsWith("*") ? g.email.toLowerCase().startsWith(pattern.slice(0, -1)) : g.email.toLowerCase() === pattern);
      } else if (name) {
        groups = groups.filter((g) => g.name === name[1]);
      } else {
        return invalidInput("query");
      }
    }
    const scope = `groups|${q.get("query") ?? ""}`;
    return listPage("groups", "admin#directory#groups", groups.map((g) => renderGroup(directory, g)), q, scope, size, fault);
  }

  function route(method: string, path: string, q: URLSearchParams, token: IssuedToken, fault: GoogleFault | undefined): Answer {
    const has = (...wanted: string[]) => wanted.some((w) => token.scopes.includes(`${SCOPE}${w}`));
    if (method !== "GET") return apiError(405, "Method Not Allowed", "methodNotAllowed");
    if (path === `${API}/users`) return has("user.readonly", "user") ? listUsers(q, fault) : insufficientScopes();
    if (path === `${API}/groups`) return has("group.readonly", "group") ? listGroups(q, fault) : insufficientScopes();
    const members = new RegExp(`^${API}/groups/([^/]+)/members$`).exec(path);
    if (members) {
      if (!has("group.member.readonly", "group.readonly", "group.member", "group")) return insufficientScopes();
      const size = pageSize(q, 200, 200);
      if (typeof size !== "number") return size;
      const group = findGroup(directory, decodeURIComponent(members[1]!));
      if (!group) return notFound("groupKey");
      return listPage("members", "admin#directory#members", renderMembers(directory, group.id), q, `members|${group.id}`, size, fault);
    }
    const get = new RegExp(`^${API}/groups/([^/]+)$`).exec(path);
    if (get) {
      if (!has("group.readonly", "group")) return insufficientScopes();
      const key = decodeURIComponent(get[1]!);
      const group = findGroup(directory, key);
      if (group) return answer(q, renderGroup(directory, group));
      // a group of another organisation is not ours to read
      return key.includes("@") && !key.toLowerCase().endsWith(`@${directory.domain}`) ? notAuthorized() : notFound("groupKey");
    }
    return notFound(path);
  }

  async function handle(req: http.IncomingMessage): Promise<Answer> {
    const url = new URL(req.url ?? "/", "http://fake");
    const q = url.searchParams;
    if (url.pathname === "/token") {
      if (req.method !== "POST") return { status: 405, body: { error: "invalid_request" } };
      if (!options.serviceAccount) return { status: 400, body: { error: "invalid_client", error_description: "The OAuth client was not found." } };
      const form = new URLSearchParams(await readBody(req));
      const granted = grantToken(form, { serviceAccount: options.serviceAccount, delegatedScopes: knobs.delegatedScopes, directory, now: Date.now() });
      if (!("subject" in granted)) return granted;
      const accessToken = `ya29.fake-${crypto.randomBytes(12).toString("base64url")}`;
      tokens.set(accessToken, granted);
      return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: "Bearer" } };
    }
    calls.api += 1;
    knobs.onRequest?.(url.pathname, q);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer) return loginRequired();
    const token = tokens.get(bearer);
    if (!token || token.revoked || token.expiresAt < Date.now()) return invalidCredentials();
    if (!isAdmin(token.subject)) return notAuthorized();
    if (knobs.quota && !quota.take(knobs.quota, token.subject)) return faultResponse("quotaPerMinute403")!;
    const fault = faults.next(url.pathname);
    if (fault === "connectionReset") return { status: 0, body: null, reset: true };
    const error = fault === undefined ? null : faultResponse(fault);
    if (error) return error;
    return route(req.method ?? "GET", url.pathname, q, token, fault);
  }

  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    calls.total += 1;
    byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + 1);
    const isApi = url.pathname.startsWith(API);
    if (isApi) calls.maxConcurrent = Math.max(calls.maxConcurrent, ++inFlight);
    handle(req)
      .then(async (out) => {
        if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
        if (isApi) inFlight -= 1;
        requests.push({ method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), status: out.status, headers: req.headers });
        if ("reset" in out && out.reset) return void req.socket.destroy();
        res.writeHead(out.status, { "content-type": "application/json; charset=UTF-8", ...(out.headers ?? {}) });
        res.end(JSON.stringify(out.body));
      })
      .catch((error: unknown) => {
        if (isApi) inFlight -= 1;
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: 500, message: String(error), errors: [] } }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    directory,
    calls,
    requests,
    knobs,
    quotaRejections: () => quota.rejected,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
