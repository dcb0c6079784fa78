// Bad input to the admin API: a clear problem+json answer, and nothing stored.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
  await harness.tenant("admin-errors");
});
afterAll(() => harness.close());

async function admin(method: string, path: string, body?: unknown, type = "application/json") {
  const response = await fetch(`${harness.url}/admin/v1${path}`, {
    method, headers: { authorization: `Bearer ${harness.adminToken}`, ...(body === undefined ? {} : { "content-type": type }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- problem+json as the test reads it
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as any };
}
const count = async (table: string) => (await harness.db.knex.raw(`select count(*)::int as n from ${table}`)).rows[0].n;

test("an invitation without a valid email, or from an unknown inviter, is refused and not stored", async () => {
  const noEmail = await admin("POST", "/accounts/admin-errors/invitations", { role: "member" });
  expect(noEmail).toMatchObject({ status: 400, body: { status: 400, detail: "email must be an email address" } });
  expect(noEmail.type).toMatch(/application\/problem\+json/);
  expect((await admin("POST", "/accounts/admin-errors/invitations", { email: "a@b.example", role: "owner" })).status).toBe(400);
  expect((await admin("POST", "/accounts/admin-errors/invitations", { email: "a@b.example", invitedBy: "ghost@b.example" })).status).toBe(404);
  expect(await count("invitations")).toBe(0);
});

test("an invalid rules document is 422 naming each line, and nothing is stored", async () => {
  const result = await admin("PUT", "/accounts/admin-errors/rules", "version: 1\nrules:\n  - group: Eng\n    role: superuser\n", "application/yaml");
  expect(result.status).toBe(422);
  expect(result.body.detail).toMatch(/^line 4: .*role must be owner, admin or member/);
  expect((await admin("GET", "/accounts/admin-errors/rules")).status).toBe(404);
  expect(await count("reconcile_requests where reason = 'rules changed'")).toBe(0);
});

test("runs that do not exist or are not held cannot be approved or rejected", async () => {
  expect((await admin("POST", "/runs/not-a-run/approve")).status).toBe(404);
  const { rows: [account] } = await harness.db.knex.raw(`select id from accounts where slug = 'admin-errors'`);
  const { rows: [run] } = await harness.db.knex.raw(`insert into sync_runs (account_id, kind, status) values (?, 'reconcile', 'succeeded') returning id`, [account.id]);
  const rejected = await admin("POST", `/runs/${run.id}/reject`);
  expect(rejected).toMatchObject({ status: 400, body: { detail: `run ${run.id} is succeeded, not held` } });
  expect((await harness.db.knex.raw(`select status from sync_runs where id = ?`, [run.id])).rows[0].status).toBe("succeeded");
});

test("a key the user may not have is refused and not created", async () => {
  const { rows: [owner] } = await harness.db.knex.raw(`select email from users where email like 'owner@admin-errors%'`);
  expect((await admin("POST", "/accounts/admin-errors/keys", { email: owner.email, domains: ["elsewhere.example"] })).status).toBe(400);
  expect((await admin("POST", "/accounts/admin-errors/keys", { email: "nobody@x.example" })).status).toBe(404);
  expect(await count("api_keys")).toBe(0);
  const made = await admin("POST", "/accounts/admin-errors/keys", { email: owner.email, domains: ["admin-errors.example.com"] });
  expect(made).toMatchObject({ status: 201, body: { scope: "domains" } });
  expect(await count("api_key_domains")).toBe(1);
});

test("a Google or Graph connection whose settings the source refuses is a problem+json 422, and nothing is stored", async () => {
  const before = await count("directory_connections");
  for (const kind of ["google", "graph"]) {
    const refused = await admin("POST", "/accounts/admin-errors/connections", { kind, config: { schedule: { full: "not a cron" } } });
    expect(refused.status).toBe(422);
    expect(refused.type).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toEqual(expect.any(String));
  }
  expect(await count("directory_connections")).toBe(before);
});
