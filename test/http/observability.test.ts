// What operators watch: /metrics counts SCIM traffic and reconciles and reports held runs; every answer
// carries security headers; and no credential (SCIM token, admin token) ever reaches a log line, even
// at the most verbose level and on errors, nor, in production, anything `idsync serve` prints.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { BIN, startServeProcess } from "../support/serve-process.ts";
import { createLogger } from "../../src/log/logger.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

const lines: string[] = [];
let harness: ScimHarness;
let client: ScimClient;
let scimToken: string;

beforeAll(async () => {
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
  harness = await startScimHarness({ log: createLogger("trace", sink) });
  client = await harness.tenant("observed");
  scimToken = client.token;
});
afterAll(() => harness.close());

const admin = (path: string, init: RequestInit = {}) => fetch(`${harness.url}/admin/v1${path}`, {
  ...init, headers: { authorization: `Bearer ${harness.adminToken}`, "content-type": "application/json", ...init.headers } });

test("SCIM requests, reconciles and held runs show in /metrics", async () => {
  const created = await client.post("/Users", { schemas: [URN.user], userName: "metered@observed.example.com" });
  expect(created.status).toBe(201);
  expect((await client.get(`/Users/${created.body.id}`)).status).toBe(200);
  expect((await client.get("/Users/not-a-user")).status).toBe(404);
  expect((await admin("/accounts/observed/reconcile", { method: "POST" })).status).toBe(200);
  const metrics = await (await fetch(`${harness.url}/metrics`)).text();
  expect(metrics).toMatch(/idsync_scim_request_duration_seconds_count\{method="POST",route="\/Users",status="201"\} \d+/);
  expect(metrics).toMatch(/idsync_scim_request_duration_seconds_count\{method="GET",route="\/Users\/:id",status="404"\} \d+/);
  expect(metrics).toMatch(/idsync_runs_total\{kind="reconcile",status="[a-z-]+"\} \d+/);
  expect(metrics).toMatch(/^idsync_held_runs \d+$/m);
});

test("every answer carries security headers (HSTS only over HTTPS: test/http/transport-security.test.ts)", async () => {
  for (const response of [await fetch(`${harness.url}/healthz`), await fetch(`${harness.url}/scim/v2/Users`)]) {
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  }
});

test("no token reaches a log line: not on success, not on a 401, not at trace level", async () => {
  await client.get("/Users");
  await fetch(`${harness.url}/scim/v2/Users`, { headers: { authorization: "Bearer scim_wrong-token-that-must-not-be-logged" } });
  await admin("/accounts");
  await fetch(`${harness.url}/admin/v1/accounts`, { headers: { authorization: "Bearer admin-guess-that-must-not-be-logged" } });
  const log = lines.join("");
  expect(log.length).toBeGreaterThan(0);
  for (const secret of [harness.adminToken, scimToken, "scim_wrong-token-that-must-not-be-logged", "admin-guess-that-must-not-be-logged"].filter(Boolean)) {
    expect(log).not.toContain(secret);
  }
  expect(log).not.toMatch(/Bearer /);
});

// `idsync serve` as the container runs it (NODE_ENV=production), on a fresh embedded database
const TOKEN_LIKE = /idsync_(scim|admin)_|Bearer /;
function productionEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "DATABASE_URL" && k !== "NODE_ENV" && !k.startsWith("IDSYNC_")));
  return { ...inherited, NODE_ENV: "production", IDSYNC_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "trace", ...extra };
}

test("a production start creates no demo account, and no token reaches its output: not at start, not on SCIM traffic", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-production-"));
  const adminToken = "production-admin-secret-0123456789";
  const served = await startServeProcess(productionEnv(dataDir, { IDSYNC_ADMIN_TOKEN: adminToken }));
  try {
    const admin = (p: string, init: RequestInit = {}) => fetch(`${served.url}/admin/v1${p}`, {
      ...init, headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" } });
    expect(((await (await admin("/accounts")).json()) as { accounts: unknown[] }).accounts).toEqual([]); // no demo account
    expect((await admin("/accounts", { method: "POST", body: JSON.stringify({ slug: "prod", domains: ["prod.example.com"] }) })).status).toBe(201);
    const issued = await (await admin("/accounts/prod/connections", { method: "POST", body: JSON.stringify({ kind: "scim" }) })).json() as { token: string };
    expect(issued.token).toMatch(/^idsync_scim_/);
    expect((await fetch(`${served.url}/scim/v2/Users`, { headers: { authorization: `Bearer ${issued.token}` } })).status).toBe(200);
    expect((await fetch(`${served.url}/scim/v2/Users`, { headers: { authorization: "Bearer idsync_scim_guessed-and-never-logged" } })).status).toBe(401);
    const output = served.output();
    expect(output).toContain('"msg":"idsync listening"');
    expect(output).toContain("IDSYNC_PUBLIC_URL is unset"); // the operator is told Location headers would say 127.0.0.1
    for (const secret of [adminToken, issued.token]) expect(output).not.toContain(secret);
    expect(output).not.toMatch(TOKEN_LIKE);
  } finally {
    served.child.kill("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);

test("a first production start without IDSYNC_ADMIN_TOKEN refuses in one line instead of printing a token", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-production-"));
  try {
    const failed = await promisify(execFile)(process.execPath, [BIN, "serve"], { env: productionEnv(dataDir), timeout: 75_000 }) // a server that starts anyway is stopped, and fails below
      .then(() => ({ code: 0, stdout: "", stderr: "" }), (error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed.code).toBe(2);
    expect(failed.stderr.trim().split("\n").at(-1)).toMatch(/^idsync: IDSYNC_ADMIN_TOKEN: required on the first start in production/);
    expect(failed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(failed.stdout + failed.stderr).not.toMatch(TOKEN_LIKE);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);
