// `npm run demo:google` against a real server: it makes and uses an account of its own (`google-demo`),
// leaves the account the README has operators create (`acme`) alone, and refuses, in one line and with
// a non-zero exit, any existing account it did not make; `--reuse` is only for one it made.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { createAccount, findAccount } from "../../src/accounts/accounts.ts";
import { getRulesDocument, saveRules } from "../../src/accounts/account-rules.ts";
import { listConnections } from "../../src/accounts/connections.ts";
import { createScimConnection } from "../../src/accounts/connections.ts";

let harness: ScimHarness;
const OPERATOR_RULES = "version: 1\nrules:\n  - name: everyone\n    group: Everyone\n    domains:\n      acme.com: read\n";

beforeAll(async () => {
  harness = await startScimHarness({ pulls: true });
  // what an operator following the README has: account acme, its rules, a SCIM connection
  await createAccount(harness.db.knex, { slug: "acme", domains: ["acme.com"], ownerEmail: "owner@acme.com" }, "test");
  await saveRules(harness.db.knex, (await findAccount(harness.db.knex, "acme")).id, OPERATOR_RULES, "test");
  await createScimConnection(harness.db.knex, "acme", "Okta", "test");
  await createAccount(harness.db.knex, { slug: "taken", name: "An operator's account", domains: ["taken.example.com"] }, "test");
}, 120_000);
afterAll(() => harness?.close());

interface DemoRun { code: number; stdout: string; stderr: string }

function demo(...args: string[]): Promise<DemoRun> {
  const { DATABASE_URL: _unused, DEMO_ACCOUNT: _unset, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "demo/google-demo.ts", ...args], {
      env: { ...env, IDSYNC_URL: harness.url, IDSYNC_ADMIN_TOKEN: harness.adminToken }, timeout: 120_000,
    }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }));
  });
}

/** What the demo could have changed in an account: its rules and its connections. */
async function footprint(slug: string) {
  const account = await findAccount(harness.db.knex, slug);
  const rules = await getRulesDocument(harness.db.knex, account.id);
  const connections = await listConnections(harness.db.knex, account.id);
  return { rules: rules?.document ?? null, connections: connections.map((c) => `${c.kind}:${c.name}`) };
}

test("the demo pulls into an account of its own and leaves the README's acme account alone", async () => {
  const before = await footprint("acme");
  const run = await demo();
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("account google-demo created");
  expect(await footprint("acme")).toEqual(before);
  expect(before).toEqual({ rules: OPERATOR_RULES, connections: ["scim:Okta"] });
  const made = await footprint("google-demo");
  expect(made.connections).toEqual(["google:Google Workspace (demo fake)"]);
  const members = await harness.db.knex.raw(`select count(*)::int as n from memberships m join accounts a on a.id = m.account_id where a.slug = 'google-demo' and m.status = 'active'`);
  expect(members.rows[0].n).toBeGreaterThan(1); // the pull was applied: more than the owner
}, 180_000);

test("an existing account the demo did not make is refused in one line and left untouched, --reuse or not", async () => {
  for (const args of [["--account", "taken"], ["--account", "taken", "--reuse"], ["--account", "acme", "--reuse"]]) {
    const before = await footprint(args[1]!);
    const run = await demo(...args);
    expect(run.code, args.join(" ")).toBe(1);
    expect(run.stderr).toBe(`demo:google: account "${args[1]}" exists and was not made by this demo, so it is left untouched; name another with --account <slug>\n`);
    expect(await footprint(args[1]!)).toEqual(before);
  }
}, 120_000);

test("an account an earlier run made is refused without --reuse, and pulled into again with it", async () => {
  const before = await footprint("google-demo");
  const refused = await demo();
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^demo:google: account "google-demo" was made by an earlier run of this demo; pass --reuse to pull into it again/);
  expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  expect(await footprint("google-demo")).toEqual(before);

  const reused = await demo("--reuse");
  expect(reused.code).toBe(0);
  expect(reused.stdout).toContain("account google-demo (made by an earlier run of this demo) reused");
}, 180_000);
