// Entra app roles and Okta entitlements, end to end: the IdP sends core `roles` / `entitlements` over
// the real SCIM endpoint, the account's rules name them, and a reconcile turns them into membership
// rows, with the provenance ("via Entra app role Admin") in the plan and the audit. An Owner assigned
// this way is an ownership transfer (through Admin), never a second owner.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { describePlan } from "../../src/reconcile/describe-plan.ts";
import { URN } from "../../src/sources/scim/schemas.ts";
import { runSql } from "../../src/db/run-sql.ts";

const ENTRA_APP_ROLE = { primary: "True", type: "WindowsAzureActiveDirectoryRole", value: "Admin" };
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const RULES = `version: 1
policy:
  removal_brake: { minimum: 1000, percent: 100 }
rules:
  - name: entra-admins
    app_role: Admin
  - name: mail-writers
    entitlement: "mail.approles.example.com:write"
  - name: from-idp
    attributes: true
`;

let harness: ScimHarness;
let client: ScimClient;
let accountId: string;

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("approles", ["approles.example.com", "mail.approles.example.com"]);
  accountId = (await findAccount(harness.db.knex, "approles")).id;
  await saveRules(harness.db.knex, accountId, RULES, "test");
});
afterAll(() => harness.close());

const member = async (email: string) => (await runSql(harness.db.knex,
  `select m.role, m.status from memberships m join users u on u.id = m.user_id where m.account_id = ? and u.email = ?`, [accountId, email])).rows[0];
const grants = async (email: string) => (await runSql(harness.db.knex,
  `select d.name, g.access from domain_grants g join memberships m on m.id = g.membership_id join users u on u.id = m.user_id
   join sending_domains d on d.id = g.domain_id where g.account_id = ? and u.email = ? order by d.name`, [accountId, email])).rows;
const createUser = (userName: string, extra: Record<string, unknown> = {}) =>
  client.post("/Users", { schemas: [URN.user], userName, emails: [{ value: userName, type: "work", primary: true }], ...extra });

test("an Entra-shaped POST with app role Admin makes an Admin, and plan and audit say why", async () => {
  const created = await createUser("ada@approles.example.com", { roles: [ENTRA_APP_ROLE] });
  expect(created.status).toBe(201);
  // Entra's string boolean is normalised; the non-canonical type is kept as sent
  expect(created.body.roles).toEqual([{ ...ENTRA_APP_ROLE, primary: true }]);
  const dryRun = await reconcileAccount(harness.db.knex, accountId, { trigger: "test", dryRun: true });
  const rows = describePlan(dryRun.plan, { users: new Map(), domains: new Map() });
  expect(rows.find((r) => r.action === "add_member")).toMatchObject({ what: "add as admin", why: "rule entra-admins via Entra app role Admin: rule" });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(await member("ada@approles.example.com")).toEqual({ role: "admin", status: "active" });
  const { rows: audit } = await runSql(harness.db.knex, `select rule from audit_log where account_id = ? and action = 'member.added'`, [accountId]);
  expect(audit.map((a) => a.rule)).toContain("entra-admins via Entra app role Admin");
});

test("Entra's PATCH Add of roles, and its removal, change the role on the next reconcile", async () => {
  const { body } = await createUser("bo@approles.example.com", { entitlements: [{ value: "mail.approles.example.com:write" }] });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(await member("bo@approles.example.com")).toEqual({ role: "member", status: "active" });
  expect(await grants("bo@approles.example.com")).toEqual([{ name: "mail.approles.example.com", access: "write" }]);

  const added = await client.patch(`/Users/${body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "roles", value: [ENTRA_APP_ROLE] }] });
  expect(added.status).toBe(200);
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(await member("bo@approles.example.com")).toMatchObject({ role: "admin" });

  await client.patch(`/Users/${body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: "roles" }] });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(await member("bo@approles.example.com")).toMatchObject({ role: "member" });
  expect(await grants("bo@approles.example.com")).toEqual([{ name: "mail.approles.example.com", access: "write" }]);
});

test("the published role Owner is an ownership transfer through Admin, never a second owner", async () => {
  const { body } = await createUser("cy@approles.example.com", { roles: [{ value: "member" }] });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(await member("cy@approles.example.com")).toMatchObject({ role: "member" });

  await client.patch(`/Users/${body.id}`, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "roles", value: [{ value: "owner", display: "Owner" }] }] });
  const { plan } = await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  const types = plan.actions.map((a) => a.type);
  expect(types.indexOf("change_role")).toBeLessThan(types.indexOf("transfer_ownership"));
  expect(plan.actions.find((a) => a.type === "change_role")).toMatchObject({ from: "member", to: "admin" });
  expect(await member("cy@approles.example.com")).toMatchObject({ role: "owner" });
  expect(await member("owner@approles.example.com")).toMatchObject({ role: "admin" });
  const { rows: owners } = await runSql(harness.db.knex, `select count(*)::int as n from memberships where account_id = ? and role = 'owner'`, [accountId]);
  expect(owners[0].n).toBe(1);

  // a second person assigned Owner: a conflict, an alert, and still one owner
  await createUser("dee@approles.example.com", { roles: [{ value: "Owner" }] });
  const second = await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(second.plan.actions.some((a) => a.type === "alert" && a.kind === "owner_conflict")).toBe(true);
  expect(await member("cy@approles.example.com")).toMatchObject({ role: "owner" });
  const { rows: after } = await runSql(harness.db.knex, `select count(*)::int as n from memberships where account_id = ? and role = 'owner'`, [accountId]);
  expect(after[0].n).toBe(1);

  // a SCIM change for someone else reconciles only them, and still sees every Owner assignment
  const { body: eve } = await createUser("eve@approles.example.com", { roles: [ENTRA_APP_ROLE] });
  const scoped = await reconcileAccount(harness.db.knex, accountId, { trigger: "test", dryRun: true, scope: { idpUserIds: [eve.id] } });
  expect(scoped.scoped).toBe(true);
  expect(scoped.plan.actions.some((a) => a.type === "alert" && a.kind === "owner_conflict")).toBe(true);
});

test("an unknown idsync role or access grants nothing, and is a plan warning and one alert", async () => {
  const { body } = await createUser("fay@approles.example.com");
  // the resource as the SCIM edge stores an unknown value (it is kept as sent, not refused)
  await runSql(harness.db.knex, `update idp_users set resource = resource || ?::jsonb where id = ?`,
    [JSON.stringify({ [URN.idsync]: { role: "superuser", domainGrants: [{ domain: "mail.approles.example.com", access: "admin" }] } }), body.id]);
  const first = await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(first.plan.warnings.map((w) => w.message)).toEqual(expect.arrayContaining([
    `fay@approles.example.com: idsync role "superuser" is not owner, admin or member; it grants nothing`,
    `fay@approles.example.com: idsync access "admin" for mail.approles.example.com is not read or write; it grants nothing`,
  ]));
  expect(await member("fay@approles.example.com")).toBeUndefined();
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  const { rows } = await runSql(harness.db.knex,
    `select detail from alerts where account_id = ? and kind = 'unknown_attribute_value' and resolved_at is null order by detail`, [accountId]);
  expect(rows.map((r) => r.detail)).toEqual([
    `fay@approles.example.com: idsync access "admin" for mail.approles.example.com is not read or write; it grants nothing (rule from-idp)`,
    `fay@approles.example.com: idsync role "superuser" is not owner, admin or member; it grants nothing (rule from-idp)`,
  ]);
});
