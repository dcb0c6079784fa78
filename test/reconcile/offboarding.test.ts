// End to end through the real SCIM endpoint and the real database: what Okta and Entra push becomes
// membership, and a departure closes every way in — in one transaction, audited.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { createApiKey, createInvitation, createSession } from "../../src/accounts/api-keys.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";

const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const RULES = `version: 1
policy:
  owner_successor: successor@acme-SLUG.example.com
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
      acme-SLUG.example.com: read
      "*.staging.acme-SLUG.example.com": write
`;

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

interface Tenant { client: ScimClient; accountId: string; slug: string; groups: Record<string, string> }

async function tenant(slug: string, rules = RULES): Promise<Tenant> {
  const client = await harness.tenant(slug, [`acme-${slug}.example.com`, `eu.staging.acme-${slug}.example.com`, `us.staging.acme-${slug}.example.com`]);
  const account = await findAccount(harness.db.knex, slug);
  await saveRules(harness.db.knex, account.id, rules.replaceAll("SLUG", slug), "test");
  const groups: Record<string, string> = {};
  for (const name of ["Owners", "Admins", "Developers"]) {
    groups[name] = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: name })).body.id;
  }
  return { client, accountId: account.id, slug, groups };
}

async function pushUser(t: Tenant, name: string, groups: string[]): Promise<string> {
  const email = `${name}@acme-${t.slug}.example.com`;
  const id = (await t.client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: email, emails: [{ type: "work", primary: true, value: email }] })).body.id;
  for (const g of groups) await t.client.patch(`/Groups/${t.groups[g]}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: [{ value: id }] }] });
  return id;
}

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;
const memberOf = async (accountId: string, email: string) => (await q(
  `select m.role, m.status, coalesce((select json_agg(json_build_object('domain', d.name, 'access', g.access) order by d.name) from domain_grants g join sending_domains d on d.id = g.domain_id where g.membership_id = m.id), '[]') as grants
   from memberships m join users u on u.id = m.user_id where m.account_id = ? and lower(u.email) = lower(?)`, [accountId, email]))[0];

test("Okta pushes a developer: they become a member with their grants; a second reconcile changes nothing", async () => {
  const t = await tenant("join");
  await pushUser(t, "dev", ["Developers"]);
  const first = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(first.status).toBe("succeeded");
  expect(await memberOf(t.accountId, "dev@acme-join.example.com")).toEqual({ role: "member", status: "active", grants: [
    { domain: "acme-join.example.com", access: "read" }, { domain: "eu.staging.acme-join.example.com", access: "write" }, { domain: "us.staging.acme-join.example.com", access: "write" }] });
  const [row] = await q(`select managed_by_connection_id, managed_by_rule, managed_by_run_id from memberships m join users u on u.id = m.user_id where u.email = ?`, ["dev@acme-join.example.com"]);
  expect(row).toEqual({ managed_by_connection_id: t.client.connectionId, managed_by_rule: "devs", managed_by_run_id: first.runId });
  expect((await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" })).status).toBe("nothing-to-do");
});

test("every applied change has its audit row and its event, in the order applied, each event's payload its change's target, before → after and reason", async () => {
  const t = await tenant("records");
  await pushUser(t, "rec", ["Developers"]);
  const run = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  const [{ id: userId }] = await q(`select id from users where email = ?`, ["rec@acme-records.example.com"]);
  const audit = await q(`select actor, action, target_type, target_id, before, after, connection_id, rule from audit_log where run_id = ? order by id`, [run.runId]);
  const events = await q(`select type, payload from events where run_id = ? order by id`, [run.runId]);
  expect(audit.map((a: { action: string }) => a.action)).toEqual(["user.created", "member.added", "domain.granted", "domain.granted", "domain.granted"]);
  expect(audit.slice(0, 2)).toEqual([
    { actor: "reconciler", action: "user.created", target_type: "user", target_id: userId, before: null,
      after: { email: "rec@acme-records.example.com", idpUserIds: [expect.any(String)] }, connection_id: t.client.connectionId, rule: "devs" },
    { actor: "reconciler", action: "member.added", target_type: "user", target_id: userId, before: null, after: { role: "member" }, connection_id: t.client.connectionId, rule: "devs" },
  ]);
  const grants = audit.slice(2);
  expect(grants.map((g: { after: { access: string } }) => g.after.access).sort()).toEqual(["read", "write", "write"]);
  for (const g of grants) expect(g).toMatchObject({ target_id: userId, before: null, after: { domainId: expect.any(String) }, connection_id: t.client.connectionId, rule: "devs" });
  expect(events.map((e: { type: string }) => e.type)).toEqual(audit.map((a: { action: string }) => a.action));
  events.forEach((e: { payload: Record<string, unknown> }, i: number) => {
    const a = audit[i];
    expect(e.payload).toEqual({ target: { type: a.target_type, id: a.target_id }, before: null, after: a.after, reason: expect.objectContaining({ connectionIds: [t.client.connectionId] }) });
  });
  expect(events[2].payload.reason.rule).toBe("devs");
});

test("Okta deactivation: membership suspended, grants, sessions, invitations and keys revoked, all audited", async () => {
  const t = await tenant("okta-off");
  const idpId = await pushUser(t, "leaver", ["Developers"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  const [{ id: userId }] = await q(`select id from users where email = ?`, ["leaver@acme-okta-off.example.com"]);
  const key = await createApiKey(harness.db.knex, { accountId: t.accountId, userId, name: "ci" });
  expect(key.domainIds).toHaveLength(2); // defaults to the member's writable domains
  await createSession(harness.db.knex, t.accountId, userId);
  await createInvitation(harness.db.knex, { accountId: t.accountId, email: "friend@example.org", role: "member", invitedBy: userId });

  // the departure is reconciled before the answer: everything below is already true when the 200 arrives
  expect((await t.client.patch(`/Users/${idpId}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] })).status).toBe(200);
  const [run] = (await q(`select id as "runId" from sync_runs where account_id = ? and trigger = 'departure'`, [t.accountId]));
  expect(await memberOf(t.accountId, "leaver@acme-okta-off.example.com")).toEqual({ role: "member", status: "suspended", grants: [] });
  expect((await q(`select revoked_at is not null as revoked from api_keys where id = ?`, [key.id]))[0].revoked).toBe(true);
  expect((await q(`select count(*)::int as n from sessions where user_id = ? and revoked_at is null`, [userId]))[0].n).toBe(0);
  expect((await q(`select status from invitations where invited_by_user_id = ?`, [userId]))[0].status).toBe("revoked");
  const audit = await q(`select action from audit_log where run_id = ? order by id`, [run.runId]);
  expect(audit.map((a: { action: string }) => a.action).sort()).toEqual(["domain.revoked", "domain.revoked", "domain.revoked", "invitation.revoked", "key.revoked", "member.deprovisioned", "session.revoked"]);
  expect((await q(`select count(*)::int as n from events where run_id = ?`, [run.runId]))[0].n).toBe(audit.length);
});

test("Entra removes a member from Developers while staying in Admins' sibling group: domain revoked, key narrowed", async () => {
  const t = await tenant("entra-narrow", RULES.replace("  - name: devs", `  - name: eu-writers
    group: EU
    domains:
      eu.staging.acme-SLUG.example.com: write
  - name: devs`));
  const eu = (await t.client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "EU" })).body.id;
  const idpId = await pushUser(t, "dana", ["Developers"]);
  await t.client.patch(`/Groups/${eu}`, { schemas: [PATCH], Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: idpId }] }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  const [{ id: userId }] = await q(`select id from users where email = ?`, ["dana@acme-entra-narrow.example.com"]);
  const key = await createApiKey(harness.db.knex, { accountId: t.accountId, userId, name: "deploy" });

  await t.client.patch(`/Groups/${t.groups.Developers}`, { schemas: [PATCH], Operations: [{ op: "Remove", path: "members", value: [{ $ref: null, value: idpId }] }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(await memberOf(t.accountId, "dana@acme-entra-narrow.example.com")).toEqual({ role: "member", status: "active",
    grants: [{ domain: "eu.staging.acme-entra-narrow.example.com", access: "write" }] });
  const domains = await q(`select d.name from api_key_domains k join sending_domains d on d.id = k.domain_id where k.api_key_id = ?`, [key.id]);
  expect(domains).toEqual([{ name: "eu.staging.acme-entra-narrow.example.com" }]);
  expect((await q(`select revoked_at from api_keys where id = ?`, [key.id]))[0].revoked_at).toBeNull();
});

test("a failure in the middle of an apply changes nothing", async () => {
  const t = await tenant("fault");
  await pushUser(t, "a", ["Developers"]);
  await pushUser(t, "b", ["Developers"]);
  // the third grant written fails: the users, memberships and grants before it must roll back too
  await harness.db.knex.raw(`create function fail_third_grant() returns trigger language plpgsql as $$
    begin if (select count(*) from domain_grants where account_id = new.account_id) >= 2 then raise exception 'injected fault'; end if; return new; end $$`);
  await harness.db.knex.raw(`create trigger fail_third_grant before insert on domain_grants for each row execute function fail_third_grant()`);
  try {
    await expect(reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" })).rejects.toThrow(/injected fault/);
  } finally {
    await harness.db.knex.raw(`drop trigger fail_third_grant on domain_grants; drop function fail_third_grant()`);
  }
  expect((await q(`select count(*)::int as n from memberships where account_id = ?`, [t.accountId]))[0].n).toBe(1); // the owner only
  expect((await q(`select count(*)::int as n from users where email like ?`, ["%@acme-fault.example.com"]))[0].n).toBe(0);
  expect((await q(`select count(*)::int as n from audit_log where account_id = ? and actor = 'reconciler'`, [t.accountId]))[0].n).toBe(0);
  expect((await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" })).status).toBe("succeeded");
});

test("a departing owner hands over to the configured successor admin; without one the ownership row stays and an alert is raised", async () => {
  const t = await tenant("owner");
  const ownerIdp = await pushUser(t, "boss", ["Owners"]);
  await pushUser(t, "successor", ["Admins"]);
  // the account's manual owner (created with the account) gives way to the IdP's owner rule
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect((await memberOf(t.accountId, "boss@acme-owner.example.com")).role).toBe("owner");
  expect((await memberOf(t.accountId, "owner@owner.example.com")).role).toBe("admin");

  await t.client.patch(`/Users/${ownerIdp}`, { schemas: [PATCH], Operations: [{ op: "Replace", path: "active", value: "False" }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(await memberOf(t.accountId, "successor@acme-owner.example.com")).toMatchObject({ role: "owner", status: "active" });
  expect(await memberOf(t.accountId, "boss@acme-owner.example.com")).toMatchObject({ role: "admin", status: "suspended" });

  const lone = await tenant("lone-owner", RULES.replace("owner_successor: successor@acme-SLUG.example.com", "retention_days: 30"));
  const loneIdp = await pushUser(lone, "boss", ["Owners"]);
  await reconcileAccount(harness.db.knex, lone.accountId, { trigger: "test" });
  await lone.client.delete(`/Users/${loneIdp}`);
  await reconcileAccount(harness.db.knex, lone.accountId, { trigger: "test" });
  expect(await memberOf(lone.accountId, "boss@acme-lone-owner.example.com")).toMatchObject({ role: "owner", status: "suspended" });
  const alerts = await q(`select kind from alerts where account_id = ? and resolved_at is null`, [lone.accountId]);
  expect(alerts.map((a: { kind: string }) => a.kind)).toContain("owner_departed");
});

test("200 removals at once are held until approved; additions go ahead", async () => {
  const t = await tenant("brake");
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) ids.push(await pushUser(t, `m${i}`, []));
  await t.client.patch(`/Groups/${t.groups.Developers}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: ids.map((value) => ({ value })) }] });
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect((await q(`select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [t.accountId]))[0].n).toBe(201);

  await t.client.patch(`/Groups/${t.groups.Developers}`, { schemas: [PATCH], Operations: [{ op: "remove", path: "members" }] });
  const newcomer = await pushUser(t, "newcomer", ["Admins"]);
  void newcomer;
  const held = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  expect(held.status).toBe("held");
  expect((await q(`select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [t.accountId]))[0].n).toBe(202);
  expect((await memberOf(t.accountId, "newcomer@acme-brake.example.com")).role).toBe("admin");
  expect((await q(`select status from sync_runs where id = ?`, [held.runId]))[0].status).toBe("held");

  const approved = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "approval", approval: { runId: held.runId! }, actor: "operator:test" });
  expect(approved.status).toBe("succeeded");
  expect((await q(`select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [t.accountId]))[0].n).toBe(2);
  expect((await q(`select status, decided_by from sync_runs where id = ?`, [held.runId]))[0]).toEqual({ status: "approved", decided_by: "operator:test" });
}, 120_000);

test("a SCIM deactivation whose reconcile fails is answered 503, stays stored, and the worker applies it", async () => {
  const { ReconcileScheduler } = await import("../../src/scheduler/reconcile-scheduler.ts");
  const { createLogger } = await import("../../src/log/logger.ts");
  const t = await tenant("durable");
  const idpId = await pushUser(t, "quitter", ["Developers"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  const [{ id: userId }] = await q(`select id from users where email = ?`, ["quitter@acme-durable.example.com"]);
  const key = await createApiKey(harness.db.knex, { accountId: t.accountId, userId, name: "prod" });

  // the departure's reconcile fails in the database (a real failure: the key's revocation is refused)
  await harness.db.knex.raw(`create function refuse_key_revocation() returns trigger language plpgsql as $$
    begin if new.revoked_at is not null then raise exception 'injected fault'; end if; return new; end $$`);
  await harness.db.knex.raw(`create trigger refuse_key_revocation before update on api_keys for each row execute function refuse_key_revocation()`);
  try {
    const answer = await t.client.patch(`/Users/${idpId}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] });
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(answer.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "503" });
    expect(JSON.stringify(answer.body)).not.toContain("injected fault");
  } finally {
    await harness.db.knex.raw(`drop trigger refuse_key_revocation on api_keys; drop function refuse_key_revocation()`);
  }
  // the write is stored, its request pending, nothing of the failed reconcile applied
  expect((await t.client.get(`/Users/${idpId}`)).body.active).toBe(false);
  expect((await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [t.accountId]))[0].n).toBeGreaterThan(0);
  expect((await q(`select revoked_at from api_keys where id = ?`, [key.id]))[0].revoked_at).toBeNull();
  expect((await memberOf(t.accountId, "quitter@acme-durable.example.com")).status).toBe("active");
  expect((await q(`select status from sync_runs where account_id = ? and trigger = 'departure'`, [t.accountId])).map((r: { status: string }) => r.status)).toEqual(["failed"]);

  // a process that starts again queues every account with requests pending (the start-up sweep)
  await new ReconcileScheduler({ db: harness.db.knex, log: createLogger("silent") }).drainRequests();
  expect((await q(`select revoked_at from api_keys where id = ?`, [key.id]))[0].revoked_at).not.toBeNull();
  expect((await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [t.accountId]))[0].n).toBe(0);
});

test("the scheduled full reconcile reverts manual edits of managed rows and audits it; manual rows stay", async () => {
  const t = await tenant("drift");
  await pushUser(t, "dev", ["Developers"]);
  await reconcileAccount(harness.db.knex, t.accountId, { trigger: "test" });
  const [{ id: userId }] = await q(`select id from users where email = ?`, ["dev@acme-drift.example.com"]);
  const [{ id: membershipId }] = await q(`select id from memberships where user_id = ? and account_id = ?`, [userId, t.accountId]);
  // someone edits rows the IdP manages by hand, and adds a manual grant of their own
  await q(`update memberships set role = 'admin' where id = ?`, [membershipId]);
  await q(`update domain_grants set access = 'write' where membership_id = ? and domain_id = (select id from sending_domains where name = ?)`, [membershipId, "acme-drift.example.com"]);
  await q(`delete from domain_grants where membership_id = ? and domain_id = (select id from sending_domains where name = ?)`, [membershipId, "us.staging.acme-drift.example.com"]);
  await q(`insert into users (email) values ('manual@acme-drift.example.com')`);
  const [{ id: manualId }] = await q(`select id from users where email = 'manual@acme-drift.example.com'`);
  await q(`insert into memberships (account_id, user_id, role) values (?, ?, 'member')`, [t.accountId, manualId]);

  const run = await reconcileAccount(harness.db.knex, t.accountId, { trigger: "scheduled" });
  expect(await memberOf(t.accountId, "dev@acme-drift.example.com")).toEqual({ role: "member", status: "active", grants: [
    { domain: "acme-drift.example.com", access: "read" }, { domain: "eu.staging.acme-drift.example.com", access: "write" }, { domain: "us.staging.acme-drift.example.com", access: "write" }] });
  const audit = (await q(`select action from audit_log where run_id = ? order by id`, [run.runId])).map((a: { action: string }) => a.action);
  expect(audit.sort()).toEqual(["domain.access_changed", "domain.granted", "member.role_changed"]);
  expect(run.plan.manualMembers).toContain("manual@acme-drift.example.com");
  expect(await memberOf(t.accountId, "manual@acme-drift.example.com")).toEqual({ role: "member", status: "active", grants: [] });
});

test("an account without rules answers SCIM changes at once: nothing is granted, nothing created, requests done", async () => {
  const client = await harness.tenant("no-rules");
  const account = await findAccount(harness.db.knex, "no-rules");
  await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "early@no-rules.example.com" });
  const result = await reconcileAccount(harness.db.knex, account.id, { trigger: "test" });
  expect(result.status).toBe("nothing-to-do");
  expect((await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [account.id]))[0].n).toBe(0);
  expect((await q(`select count(*)::int as n from users where email = ?`, ["early@no-rules.example.com"]))[0].n).toBe(0);
  // the dry run still shows what the (empty) rules make of the snapshot
  expect((await reconcileAccount(harness.db.knex, account.id, { trigger: "test", dryRun: true })).plan.manualMembers).toEqual(["owner@no-rules.example.com"]);
});
