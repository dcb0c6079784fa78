// Alerts resolve when their cause is gone, end to end on the real database: a manual-user conflict once
// `link_by_email` has linked the user, a conflict for someone the IdP stopped assigning — but a scoped
// run resolves only alerts about the people it planned — and a departed owner's alert stays open
// while they stay departed and resolves when they come back.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { createAccount, findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const rulesFor = (slug: string, policy = "") => `version: 1
${policy}rules:
  - name: owners
    group: Owners
    role: owner
  - name: devs
    group: Developers
    domains:
      ${slug}.example.com: read
`;

interface Tenant { client: ScimClient; accountId: string; slug: string; groups: Record<string, string> }

async function tenant(slug: string, policy = ""): Promise<Tenant> {
  const client = await harness.tenant(slug);
  const accountId = (await findAccount(harness.db.knex, slug)).id;
  await saveRules(harness.db.knex, accountId, rulesFor(slug, policy), "test");
  const groups: Record<string, string> = {};
  for (const name of ["Owners", "Developers"]) groups[name] = (await client.post("/Groups", { schemas: [URN.group], displayName: name })).body.id;
  return { client, accountId, slug, groups };
}

async function push(t: Tenant, email: string, group: string): Promise<string> {
  const id = (await t.client.post("/Users", { schemas: [URN.user], userName: email, emails: [{ value: email, primary: true }] })).body.id;
  await t.client.patch(`/Groups/${t.groups[group]}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: [{ value: id }] }] });
  return id;
}

const openAlerts = async (accountId: string, kind: string) => (await harness.db.knex.raw(
  `select a.detail, u.email from alerts a left join users u on u.id = a.user_id where a.account_id = ? and a.kind = ? and a.resolved_at is null order by u.email`,
  [accountId, kind])).rows as Array<{ detail: string; email: string | null }>;
const resolvedAudit = async (accountId: string) => (await harness.db.knex.raw(
  `select target_id, before ->> 'detail' as detail from audit_log where account_id = ? and action = 'alert.resolved' order by id`, [accountId])).rows;

test("a manual_user_conflict alert resolves once link_by_email has linked the user", async () => {
  // carol is an app user already (the owner of another account): the IdP may not take her over unasked
  await createAccount(harness.db.knex, { slug: "carols", domains: ["carols.example.com"], ownerEmail: "carol@linking.example.com" }, "test");
  const t = await tenant("linking");
  await push(t, "carol@linking.example.com", "Developers");
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect((await openAlerts(t.accountId, "manual_user_conflict")).map((a) => a.email)).toEqual(["carol@linking.example.com"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" }); // re-stated, not raised twice, not resolved
  expect(await openAlerts(t.accountId, "manual_user_conflict")).toHaveLength(1);

  await saveRules(harness.db.knex, t.accountId, rulesFor("linking", "policy:\n  link_by_email: true\n"), "test");
  const linked = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(linked.plan.actions.map((a) => a.type)).toContain("link_identity");
  expect(await openAlerts(t.accountId, "manual_user_conflict")).toEqual([]);
  expect(await resolvedAudit(t.accountId)).toEqual([{ target_id: "manual_user_conflict", detail: expect.stringContaining("carol@linking.example.com") }]);
  const events = (await harness.db.knex.raw(`select count(*)::int as n from events where account_id = ? and type = 'alert.resolved'`, [t.accountId])).rows[0].n;
  expect(events).toBe(1);
});

test("a scoped run resolves only the alerts of the people it planned; a full run resolves the rest", async () => {
  for (const name of ["dan", "eve"]) {
    await createAccount(harness.db.knex, { slug: `${name}s`, domains: [`${name}s.example.com`], ownerEmail: `${name}@scoping.example.com` }, "test");
  }
  const t = await tenant("scoping");
  const dan = await push(t, "dan@scoping.example.com", "Developers");
  const eve = await push(t, "eve@scoping.example.com", "Developers");
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect((await openAlerts(t.accountId, "manual_user_conflict")).map((a) => a.email)).toEqual(["dan@scoping.example.com", "eve@scoping.example.com"]);

  // the IdP stops assigning both; a run scoped to dan sees only dan
  for (const id of [dan, eve]) {
    await t.client.patch(`/Groups/${t.groups.Developers}`, { schemas: [URN.patchOp], Operations: [{ op: "remove", path: `members[value eq "${id}"]` }] });
  }
  const scoped = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test", scope: { idpUserIds: [dan] } });
  expect(scoped.scoped).toBe(true);
  expect((await openAlerts(t.accountId, "manual_user_conflict")).map((a) => a.email)).toEqual(["eve@scoping.example.com"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(await openAlerts(t.accountId, "manual_user_conflict")).toEqual([]);
});

test("a departed owner's alert stays open while they stay departed and resolves when they come back", async () => {
  const t = await tenant("departing");
  const olga = await push(t, "olga@departing.example.com", "Owners");
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  await t.client.patch(`/Users/${olga}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: false } }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect((await openAlerts(t.accountId, "owner_departed")).map((a) => a.email)).toEqual(["olga@departing.example.com"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" }); // nothing changed: the condition lasts
  expect(await openAlerts(t.accountId, "owner_departed")).toHaveLength(1);

  await t.client.patch(`/Users/${olga}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: true } }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(await openAlerts(t.accountId, "owner_departed")).toEqual([]);
});
