// The bare baseline for `npm run bench`: the least a server can do to answer the three benchmarked
// SCIM requests. An express 5 app with one pg.Pool (max 10, like idsync's knex pool) that issues
// exactly the SQL idsync issues for them (bench/baseline-sql.ts: copied from src and checked against
// it, the filter fragment compiled by idsync's compileFilter), and answers with res.json(row(s)):
//   every request   → the token lookup of verifyScimToken (src/accounts/connections.ts), same sha256 hex.
//                     idsync asks it once per token every few seconds (src/accounts/scim-token-cache.ts,
//                     revocations pushed by NOTIFY); the baseline keeps the lookup per request, the least a
//                     server without that cache must do, so the cache counts as one of idsync's layers
//   GET  /Users     → listPage (src/snapshot/connection-scope.ts) with the WHERE fragment
//                     compileFilter emits for `userName eq "x"` (src/sources/scim/filter/compile-filter.ts)
//   POST /Users     → insertIdpUser with its reconcile request, one statement (src/snapshot/idp-users.ts)
//   PATCH /Groups/x → group-resource.ts patch, adding members: changeGroupMembers (src/snapshot/idp-groups.ts),
//                     one call of the database function change_group_members (the group's row lock, then
//                     one statement with its reconcile request)
// Not copied, because idsync does not issue them per request: the rate limit's lease (src/limits,
// one upsert of limit_buckets per token about once a second, whatever the request rate) and the
// failed-authentication throttle (writes only for a client that fails). The job queue's wake-up is
// in the statements themselves: the reconcile request rows' trigger NOTIFYs at commit, on both sides.
// No SCIM schema validation, filter parsing, rendering or logging: what idsync spends beyond this
// baseline is the cost of its own layers, since both share the database, the pool size and the SQL.
// Run as a child process: `node --import tsx bench/bare-baseline.ts` with DATABASE_URL and PORT.
import { createHash, randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import pg from "pg";
import { SQL } from "./baseline-sql.ts";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, application_name: "idsync-bench-baseline" });
const port = Number(process.env.PORT ?? 0);

interface Scope { tokenId: string; connectionId: string; accountId: string }
type Json = Record<string, unknown>;
type ScopedRequest = Request & { scope?: Scope };

const lastUsedWritten = new Map<string, number>();

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function verifyToken(token: string): Promise<Scope | undefined> {
  const { rows: [row] } = await pool.query<{ token_id: string; connection_id: string; account_id: string }>(
    SQL.token, [createHash("sha256").update(token, "utf8").digest("hex")]);
  if (!row) return undefined;
  const now = Date.now();
  if ((lastUsedWritten.get(row.token_id) ?? 0) < now - 60_000) {
    lastUsedWritten.set(row.token_id, now);
    pool.query(SQL.touchToken, [row.token_id]).catch(() => lastUsedWritten.delete(row.token_id));
  }
  return { tokenId: row.token_id, connectionId: row.connection_id, accountId: row.account_id };
}

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.get("/healthz", (_req, res) => { res.json({ status: "ok" }); });

const scim = express.Router();
scim.use(async (req: ScopedRequest, res, next) => {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "")?.[1];
  const scope = token ? await verifyToken(token) : undefined;
  if (!scope) return void res.status(401).json({ detail: "unauthorized" });
  req.scope = scope;
  next();
});
scim.use(express.json({ type: ["application/scim+json", "application/json"], limit: 4 * 1024 * 1024, strict: false }));

scim.get("/Users", async (req: ScopedRequest, res) => {
  const filter = String(req.query.filter ?? "");
  const userName = /^userName eq "(.*)"$/.exec(filter)?.[1];
  if (userName === undefined) return void res.status(400).json({ detail: "only userName eq \"x\" is supported" });
  const { rows } = await pool.query<Json>(SQL.listUsers, [userName, req.scope!.connectionId]);
  res.json({
    schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    totalResults: rows.length, startIndex: 1, itemsPerPage: Math.min(rows.length, 100), Resources: rows.slice(0, 100),
  });
});

scim.post("/Users", async (req: ScopedRequest, res) => {
  const body = req.body as Json;
  const scope = req.scope!;
  const emails = Array.isArray(body.emails) ? (body.emails as Json[]) : [];
  const email = emails.find((e) => e.primary === true)?.value ?? emails[0]?.value ?? null;
  const name = body.name as Json | undefined;
  const displayName = typeof body.displayName === "string" ? body.displayName : typeof name?.formatted === "string" ? name.formatted : null;
  const { schemas: _schemas, ...resource } = body;
  const id = randomUUID();
  const { rows: [row] } = await pool.query(SQL.insertUser, [
    id, scope.connectionId, scope.accountId, id, typeof body.externalId === "string" ? body.externalId : null, String(body.userName),
    displayName, email, body.active !== false, JSON.stringify({ ...resource, active: body.active !== false }), "SCIM POST /Users/",
  ]);
  res.status(201).json(row);
});

scim.patch("/Groups/:id", async (req: ScopedRequest, res) => {
  const scope = req.scope!;
  const groupId = String(req.params.id).toLowerCase();
  const operations = ((req.body as Json).Operations ?? []) as Array<{ op?: string; path?: string; value?: Array<{ value: string; display?: string }> }>;
  const members = operations.filter((o) => o.op?.toLowerCase() === "add" && o.path === "members").flatMap((o) => o.value ?? []);
  try {
    const { rows: [result] } = await pool.query<{ group_found: number; unknown_members: string[] }>(SQL.changeMembers, [
      groupId, scope.connectionId, JSON.stringify(members.map((m) => ({ value: m.value, display: m.display ?? null }))), [], "SCIM PATCH /Groups/",
    ]);
    if (!result!.group_found) throw new HttpError(404, `Group ${groupId} not found`);
    if (result!.unknown_members.length > 0) throw new HttpError(400, `no User or Group with id ${result!.unknown_members[0]}`);
    res.status(204).end();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    res.status(error.status).json({ detail: error.message });
  }
});

app.use("/scim/v2", scim);
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  process.stderr.write(`baseline request failed: ${(error as Error).stack ?? String(error)}\n`);
  if (!res.headersSent) res.status(500).json({ detail: "internal error" });
});

const server = app.listen(port, "127.0.0.1", () => process.stdout.write(`baseline listening on ${port}\n`));
server.keepAliveTimeout = 65_000;
const stop = () => server.close(() => void pool.end().finally(() => process.exit(0)));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
