// What the CLI prints about the removal brake, through the real admin client against a real server:
// `rules set` shows the plan's warnings and the held run with the brake's numbers; `plan` marks each
// removal; `runs approve|reject --email` decide for one person; `members` shows kept access; `runs list`
// shows the time held apart from the run's own duration.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { AdminClient } from "../../src/cli/admin-client.ts";
import { reconcileCommands } from "../../src/cli/reconcile-commands.ts";

const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SLUG = "cli-brake";
let harness: ScimHarness;
let dir: string;
beforeAll(async () => {
  // SCIM deactivations wait for the rules change here (the queued path), not reconciled before the answer
  harness = await startScimHarness({ departures: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-brake-"));
});
afterAll(async () => {
  await harness.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs one CLI command and returns what it printed on stdout. */
async function idsync(command: string, positionals: string[], values: Record<string, string | boolean> = {}): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    await reconcileCommands[command]!({ positionals, values, client: new AdminClient(harness.url, harness.adminToken) });
  } finally {
    process.stdout.write = write;
  }
  return chunks.join("");
}

test("rules set, plan, approve and reject per person, members and runs list say what the brake did", async () => {
  const client = await harness.tenant(SLUG);
  const { id: accountId } = await findAccount(harness.db.knex, SLUG);
  await saveRules(harness.db.knex, accountId, `version: 1\nrules:\n  - name: devs\n    group: Developers\n    domains:\n      ${SLUG}.example.com: read\n`, "test");
  const ids: Record<string, string> = {};
  for (const name of ["ann", "ben"]) ids[name] = (await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `${name}@${SLUG}.example.com` })).body.id;
  await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Developers", members: Object.values(ids).map((value) => ({ value })) });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  for (const id of Object.values(ids)) await client.patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] });

  const file = path.join(dir, "rules.yaml");
  fs.writeFileSync(file, `version: 1\npolicy:\n  removal_brake:\n    minimum: 1\n    percent: 0\n    window_minutes: 30\nrules:\n  - name: devs\n    group: Developers\n    domains:\n      ${SLUG}.example.com: read\n  - name: ops\n    group: Operators\n    domains:\n      elsewhere.example.org: write\n`);
  const set = await idsync("rules set", [file], { account: SLUG });
  expect(set).toContain(`warning: rule ops (line 12): no IdP group is called or has the id "Operators"`);
  expect(set).toContain("warning: rule ops (line 12): no domain of this account matches elsewhere.example.org");
  expect(set).toMatch(/run (\S+): held, 0 applied; 4 removal\(s\) wait for approval: run \1 held: 4 removals in this run \+ 0 applied in the last 30 min = 4 > limit 1 \(max\(1, 0 % of 3 members\)\); it holds 4 removal\(s\) of 2 person\(s\)/);
  const [{ id: runId, trigger }] = (await harness.db.knex.raw(`select id, trigger from sync_runs where account_id = ? and status = 'held'`, [accountId])).rows;
  expect(trigger).toBe("rules change");

  expect(await idsync("plan", [], { account: SLUG })).toContain(`waits for approval in run ${runId}`);
  expect(await idsync("runs approve", [runId], { email: `ann@${SLUG}.example.com` })).toContain(`2 removal(s) run ${runId} showed applied`);
  expect(await idsync("runs reject", [runId], { email: `ben@${SLUG}.example.com` })).toContain(`nothing was removed; 1 person(s) keep their access by an operator's decision`);
  const members = await idsync("members", [], { account: SLUG });
  expect(members).toMatch(new RegExp(`ben@${SLUG}\\.example\\.com +\\S+ +member +active, kept by an operator's decision \\(run ${runId} rejected\\)`));
  expect(members).toMatch(new RegExp(`ann@${SLUG}\\.example\\.com +\\S+ +member +suspended`));
  expect(await idsync("runs kept", [], { account: SLUG })).toContain(`ben@${SLUG}.example.com`);
  const runs = await idsync("runs list", [], { account: SLUG });
  expect(runs.split("\n")[0]).toMatch(/duration_ms +held_for +decided_by/);
  expect(runs.split("\n").find((l) => l.startsWith(runId))).toMatch(/operator:test/);
}, 120_000);
