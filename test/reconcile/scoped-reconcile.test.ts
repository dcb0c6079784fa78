// A SCIM change reconciles only the people it touched (and those ownership depends on). The claim that
// makes this safe: for those people a scoped plan is exactly the plan a whole-account reconcile makes.
// Each step below changes the IdP through the real SCIM endpoint, compares the scoped dry run with the
// full one, applies the scoped run as the worker does, and checks a full reconcile then has nothing left.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { createApiKey } from "../../src/accounts/api-keys.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { changesOf, type PlanAction } from "../../src/reconcile/plan.ts";
import { URN as SCHEMA } from "../../src/sources/scim/schemas.ts";

const RULES = `version: 1
policy:
  owner_successor: heir@scoped.example.com
  removal_brake: { minimum: 1000, percent: 100 }
rules:
  - name: owners
    group: Owners
    role: owner
  - name: admins
    group: Admins
    role: admin
  - name: devs
    group: Developers
    domains:
      scoped.example.com: read
      "*.staging.scoped.example.com": write
  - name: eu
    group: EU
    domains:
      eu.staging.scoped.example.com: write
`;

let harness: ScimHarness;
let client: ScimClient;
let accountId: string;
const groups: Record<string, string> = {};
const users: Record<string, string> = {};

beforeAll(async () => {
  // the queued path: SCIM departures are not reconciled before the answer here (that is test/scim/departures.test.ts)
  harness = await startScimHarness({ departures: false });
  client = await harness.tenant("scoped", ["scoped.example.com", "eu.staging.scoped.example.com", "us.staging.scoped.example.com"]);
  accountId = (await findAccount(harness.db.knex, "scoped")).id;
  await saveRules(harness.db.knex, accountId, RULES, "test");
  for (const name of ["Owners", "Admins", "Developers", "EU", "Nested"]) {
    groups[name] = (await client.post("/Groups", { schemas: [SCHEMA.group], displayName: name })).body.id;
  }
  await addMembers("EU", groups.Nested!); // nesting: Nested's members are in EU
  const people: Array<[string, string[]]> = [["boss", ["Owners"]], ["heir", ["Admins"]], ["ada", ["Developers", "EU"]], ["bob", ["Developers"]],
    ["cy", ["Nested"]], ["dee", ["Admins", "Developers"]], ["eve", []]];
  for (const [name, of] of people) {
    const email = `${name}@scoped.example.com`;
    users[name] = (await client.post("/Users", { schemas: [SCHEMA.user], userName: email, emails: [{ value: email, primary: true, type: "work" }] })).body.id;
    for (const g of of) await addMembers(g, users[name]!);
  }
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  const q = async (sql: string, b: unknown[]) => (await harness.db.knex.raw(sql, b as never[])).rows;
  const [{ id: bob }] = await q(`select id from users where email = ?`, ["bob@scoped.example.com"]);
  const [{ id: dee }] = await q(`select id from users where email = ?`, ["dee@scoped.example.com"]);
  await createApiKey(harness.db.knex, { accountId, userId: bob, name: "bob's" });
  await createApiKey(harness.db.knex, { accountId, userId: dee, name: "dee's", organizationWide: true });
});
afterAll(() => harness.close());

async function addMembers(group: string, ...ids: string[]): Promise<void> {
  const r = await client.patch(`/Groups/${groups[group]}`, { schemas: [SCHEMA.patchOp], Operations: [{ op: "add", path: "members", value: ids.map((value) => ({ value })) }] });
  expect(r.status).toBeLessThan(300);
}
async function removeMember(group: string, id: string): Promise<void> {
  const r = await client.patch(`/Groups/${groups[group]}`, { schemas: [SCHEMA.patchOp], Operations: [{ op: "remove", path: `members[value eq "${id}"]` }] });
  expect(r.status).toBeLessThan(300);
}
async function setUser(name: string, value: Record<string, unknown>): Promise<void> {
  const r = await client.patch(`/Users/${users[name]}`, { schemas: [SCHEMA.patchOp], Operations: [{ op: "replace", value }] });
  expect(r.status).toBe(200);
}

const canonical = (actions: readonly PlanAction[]) => actions.map((a) => JSON.stringify(a)).sort();

/** The pending requests' users, or null when one of them asked for the whole account. */
async function pendingScope(): Promise<string[] | null> {
  const { rows } = await harness.db.knex.raw(`select idp_user_ids from reconcile_requests where account_id = ? and processed_at is null`, [accountId]);
  if (rows.some((r: { idp_user_ids: string[] | null }) => r.idp_user_ids === null)) return null;
  return [...new Set(rows.flatMap((r: { idp_user_ids: string[] }) => r.idp_user_ids))] as string[];
}

/** [what happens, the change, is it scoped, does it change anything] */
const steps: Array<[string, () => Promise<void>, boolean, boolean?]> = [
  ["Okta deactivates a developer", () => setUser("bob", { active: false }), true],
  ["Entra removes a member from Developers; EU still grants", () => removeMember("Developers", users.ada!), true],
  ["a nested member leaves the nested group", () => removeMember("Nested", users.cy!), true],
  ["an admin is demoted: org-wide key revoked", () => removeMember("Admins", users.dee!), true],
  ["the IdP changes an email (same id)", () => setUser("ada", { emails: [{ value: "ada.l@scoped.example.com", primary: true, type: "work" }] }), true],
  ["a second person joins Owners: conflict, no change", () => addMembers("Owners", users.heir!), true, false],
  ["they leave Owners again", () => removeMember("Owners", users.heir!), true, false],
  ["the owner is deactivated: ownership to the successor", () => setUser("boss", { active: false }), true],
  ["a deactivated developer comes back", () => setUser("bob", { active: true }), true],
  ["an unassigned user is added to Developers", () => addMembers("Developers", users.eve!), true],
  ["a group is deleted: the whole account", async () => { expect((await client.delete(`/Groups/${groups.EU}`)).status).toBe(204); }, false],
  ["a user is deleted", async () => { expect((await client.delete(`/Users/${users.eve}`)).status).toBe(204); }, true],
];

test.each(steps)("%s: the scoped plan is the full plan, and applying it leaves nothing for a full reconcile", async (_name, change, scopedExpected, changes = true) => {
  await change();
  const scope = await pendingScope();
  expect(scope !== null).toBe(scopedExpected);
  const full = await reconcileAccount(harness.db.knex, accountId, { trigger: "test", dryRun: true });
  expect(changesOf(full.plan).length > 0).toBe(changes);
  if (scope) {
    const scoped = await reconcileAccount(harness.db.knex, accountId, { trigger: "test", dryRun: true, scope: { idpUserIds: scope } });
    expect(scoped.scoped).toBe(true);
    expect(canonical(scoped.plan.actions)).toEqual(canonical(full.plan.actions));
  }
  const applied = await reconcileAccount(harness.db.knex, accountId, { trigger: "snapshot change", scope: "requests" });
  expect(applied.scoped).toBe(scopedExpected);
  if (changes) expect(applied.status).toBe("succeeded");
  const after = await reconcileAccount(harness.db.knex, accountId, { trigger: "test", dryRun: true });
  expect(changesOf(after.plan)).toEqual([]);
  expect((await pendingScope())).toEqual([]);
});
