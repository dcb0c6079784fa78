// Domains can be added to an account through the admin API, and the audit log can be filtered.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
  await harness.tenant("domains");
});
afterAll(() => harness.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read loosely here
const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${harness.url}/admin/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${harness.adminToken}`, "content-type": "application/json" } });
  return { status: response.status, body: (await response.json()) as any };
};

test("a domain is added once, audited, and asks for a reconcile; a bad name is a 400", async () => {
  const added = await admin("POST", "/accounts/domains/domains", { name: "EU.Domains.example.com" });
  expect(added).toMatchObject({ status: 201, body: { domain: { name: "eu.domains.example.com" } } });
  expect((await admin("POST", "/accounts/domains/domains", { name: "eu.domains.example.com" })).status).toBe(400);
  expect((await admin("POST", "/accounts/domains/domains", { name: "not a domain" })).status).toBe(400);
  expect((await admin("GET", "/accounts/domains/domains")).body.domains.map((d: { name: string }) => d.name)).toEqual(["domains.example.com", "eu.domains.example.com"]);
  const pending = await harness.db.knex.raw(`select reason from reconcile_requests r join accounts a on a.id = r.account_id where a.slug = 'domains' and processed_at is null`);
  expect(pending.rows.map((r: { reason: string }) => r.reason)).toContain("domain eu.domains.example.com added");
});

test("the audit log filters by action, action prefix and actor, and refuses a malformed run id", async () => {
  const all = (await admin("GET", "/accounts/domains/audit")).body.audit;
  expect(all.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(["account.created", "domain.added"]));
  expect((await admin("GET", "/accounts/domains/audit?action=domain.added")).body.audit.map((a: { action: string }) => a.action)).toEqual(["domain.added"]);
  expect((await admin("GET", "/accounts/domains/audit?action=account.")).body.audit.map((a: { action: string }) => a.action)).toEqual(["account.created"]);
  expect((await admin("GET", "/accounts/domains/audit?actor=nobody")).body.audit).toEqual([]);
  expect((await admin("GET", "/accounts/domains/audit?run=42")).status).toBe(400);
});
