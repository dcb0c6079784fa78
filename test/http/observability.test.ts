// What operators watch: /metrics counts SCIM traffic and reconciles and reports held runs; every answer
// carries security headers; and no credential (SCIM token, admin token) ever reaches a log line, even
// at the most verbose level and on errors.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
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
