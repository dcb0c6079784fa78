// The audit trail a person can follow, end to end through the real server: targets named by email,
// domain and key beside their ids, the run of every reconciler row, the rule on a deprovision and its
// revocations, a filter by person (admin API and CLI), user ids in `members` and `review` to follow rows
// to, and a SCIM connection's status following `token revoke`.
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { AdminClient } from "../../src/cli/admin-client.ts";
import { reconcileCommands } from "../../src/cli/reconcile-commands.ts";
import { commands } from "../../src/cli/commands.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

const SLUG = "trail";
const ALICE = `alice@${SLUG}.example.com`;
const BOB = `bob@${SLUG}.example.com`;
const RULES = `version: 1
rules:
  - name: devs
    group: Developers
    domains:
      ${SLUG}.example.com: read
      staging.${SLUG}.example.com: write
`;

let harness: ScimHarness;
let client: ScimClient;
let accountId: string;
let aliceScimId: string;
let departureRun: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read loosely here
const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; type: string | null; body: any }> => {
  const response = await fetch(`${harness.url}/admin/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${harness.adminToken}`, "content-type": "application/json" } });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.json() };
};

/** What a CLI command prints, run against the real server. */
async function cli(run: (input: Parameters<typeof commands[string]>[0]) => Promise<void>, values: Record<string, string | boolean>): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    await run({ positionals: [], values, client: new AdminClient(harness.url, harness.adminToken) });
  } finally {
    spy.mockRestore();
  }
  return out.join("");
}

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant(SLUG, [`${SLUG}.example.com`, `staging.${SLUG}.example.com`]);
  accountId = (await findAccount(harness.db.knex, SLUG)).id;
  await saveRules(harness.db.knex, accountId, RULES, "test");
  const ids: string[] = [];
  for (const email of [ALICE, BOB]) ids.push((await client.post("/Users", { schemas: [URN.user], userName: email, emails: [{ value: email, primary: true }] })).body.id);
  aliceScimId = ids[0]!;
  await client.post("/Groups", { schemas: [URN.group], displayName: "Developers", members: ids.map((value) => ({ value })) });
  expect((await reconcileAccount(harness.db.knex, accountId, { trigger: "test" })).status).toBe("succeeded");
  expect((await admin("POST", `/accounts/${SLUG}/keys`, { email: ALICE, name: "ci" })).status).toBe(201);
  await client.patch(`/Users/${aliceScimId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: false } }] });
  // the departure is reconciled before the SCIM answer, in a run of its own
  const [departed] = (await harness.db.knex.raw(`select id, status from sync_runs where account_id = ? and trigger = 'departure'`, [accountId])).rows;
  expect(departed.status).toBe("succeeded");
  departureRun = departed.id;
}, 60_000);
afterAll(() => harness.close());

test("a deprovision and its revocations name the person, the domains, the key, the run and the rule that had given the access", async () => {
  const { body } = await admin("GET", `/accounts/${SLUG}/audit?run=${departureRun}`);
  const rows = body.audit as Array<Record<string, unknown>>;
  const row = (action: string) => rows.find((r) => r.action === action)!;
  expect(row("member.deprovisioned")).toMatchObject({ target_type: "user", target_name: ALICE, rule: "devs", run_id: departureRun });
  const revoked = rows.filter((r) => r.action === "domain.revoked");
  expect(revoked.map((r) => r.change).sort()).toEqual([`domain: staging.${SLUG}.example.com → —`, `domain: ${SLUG}.example.com → —`]);
  expect(revoked.every((r) => r.rule === "devs" && r.target_name === ALICE)).toBe(true);
  const domainId = (revoked[0]!.before as { domainId: string }).domainId;
  expect((revoked[0]!.names as Record<string, string>)[domainId]).toMatch(new RegExp(`${SLUG}\\.example\\.com$`));
  expect(row("key.revoked")).toMatchObject({ target_type: "api_key", target_name: `ci (${ALICE})`, rule: "devs" });
});

test("grants name their domain beside its id", async () => {
  const { body } = await admin("GET", `/accounts/${SLUG}/audit?action=domain.granted`);
  const bobs = (body.audit as Array<{ target_name: string; change: string }>).filter((r) => r.target_name === BOB).map((r) => r.change).sort();
  expect(bobs).toEqual([`— → domain: staging.${SLUG}.example.com, access: write`, `— → domain: ${SLUG}.example.com, access: read`]);
});

test("the audit filters by person: only rows about them (their user, their keys); an unknown email is a problem+json 404", async () => {
  const { body } = await admin("GET", `/accounts/${SLUG}/audit?email=${encodeURIComponent(ALICE.toUpperCase())}`);
  const rows = body.audit as Array<{ action: string; target_name: string | null }>;
  expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(["user.created", "member.added", "domain.granted", "member.deprovisioned", "key.revoked"]));
  expect(rows.every((r) => r.target_name?.includes(ALICE))).toBe(true);
  const all = (await admin("GET", `/accounts/${SLUG}/audit`)).body.audit as Array<{ target_name: string | null }>;
  expect(all.some((r) => r.target_name === BOB)).toBe(true);
  const unknown = await admin("GET", `/accounts/${SLUG}/audit?email=nobody@${SLUG}.example.com`);
  expect(unknown).toMatchObject({ status: 404, type: expect.stringContaining("application/problem+json"), body: { detail: `no user with the email nobody@${SLUG}.example.com` } });
});

test("members and review show the user id audit rows name, and the CLI prints email, id, run and rule", async () => {
  const { body } = await admin("GET", `/accounts/${SLUG}/audit?action=member.deprovisioned`);
  const aliceUserId = body.audit[0].target_id as string;
  const members = (await admin("GET", `/accounts/${SLUG}/members`)).body.members as Array<{ email: string; user_id: string }>;
  expect(members.find((m) => m.email === ALICE)?.user_id).toBe(aliceUserId);
  const review = (await admin("GET", `/accounts/${SLUG}/review`)).body.review as Array<{ email: string; user_id: string }>;
  expect(review.find((m) => m.email === ALICE)?.user_id).toBe(aliceUserId);

  const membersOut = await cli(reconcileCommands.members!, { account: SLUG });
  expect(membersOut.split("\n")[0]).toMatch(/^email\s+user_id\s+role/);
  expect(membersOut.split("\n").find((l) => l.startsWith(ALICE))).toContain(aliceUserId);
  expect((await cli(reconcileCommands.review!, { account: SLUG })).split("\n").find((l) => l.startsWith(ALICE))).toContain(aliceUserId);

  const auditOut = await cli(reconcileCommands.audit!, { account: SLUG, email: ALICE });
  const [header, ...lines] = auditOut.trimEnd().split("\n");
  expect(header).toMatch(/^id\s+occurred_at\s+run\s+actor\s+action\s+target\s+target_id\s+rule\s+change$/);
  const deprovisioned = lines.find((l) => l.includes("member.deprovisioned"))!;
  for (const part of [departureRun, ALICE, aliceUserId, "devs", "status: suspended"]) expect(deprovisioned).toContain(part);
  expect(lines.some((l) => l.includes(BOB))).toBe(false);
});

test("a SCIM connection whose tokens are revoked is listed as revoked (API, CLI, status page) until a new token is issued", async () => {
  const status = async () => ((await admin("GET", `/accounts/${SLUG}/connections`)).body.connections as Array<{ id: string; status: string }>)
    .find((c) => c.id === client.connectionId)!.status;
  expect(await status()).toBe("active");
  expect((await admin("POST", `/connections/${client.connectionId}/tokens/revoke`)).body).toEqual({ revoked: 1 });
  expect(await status()).toBe("revoked");
  const listed = await cli(commands["connection list"]!, { account: SLUG });
  expect(listed.split("\n").find((l) => l.startsWith(client.connectionId))).toMatch(/\srevoked\s/);
  const page = await (await fetch(`${harness.url}/accounts/${SLUG}`, { headers: { cookie: `idsync_session=${harness.adminToken}` } })).text();
  expect(page).toContain(`<span class="connection-status revoked">revoked</span>`);
  expect((await admin("POST", `/connections/${client.connectionId}/tokens/rotate`, { graceMinutes: 0 })).status).toBe(201);
  expect(await status()).toBe("active");
});

test("the status page's audit shows the person, the run and the rule", async () => {
  const page = await (await fetch(`${harness.url}/accounts/${SLUG}`, { headers: { cookie: `idsync_session=${harness.adminToken}` } })).text();
  const audit = page.slice(page.indexOf("<h2>Recent audit</h2>"));
  expect(audit).toContain("<th>run</th>");
  expect(audit).toContain(`<code title="${departureRun}">${departureRun.slice(0, 8)}</code>`);
  expect(audit).toMatch(new RegExp(`<td>member\\.deprovisioned</td><td>${ALICE.replace(".", "\\.")}<br>`));
});
