// A SCIM request that deactivates or deletes a user reconciles that user before it answers: when Okta or
// Entra read 200, the person's sessions, API keys, pending invitations and grants are revoked (or held by
// the removal brake, which raises its alert). Every assertion below reads the tables right after the
// response, without waiting or polling. Other changes (group membership) go through the queue.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { createApiKey, createInvitation, createSession } from "../../src/accounts/api-keys.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

const pgOnly = process.env.DATABASE_URL ? test : ((() => undefined) as unknown as typeof test);

const RULES = `version: 1
policy:
  BRAKE
rules:
  - name: devs
    group: Developers
    domains:
      SLUG.example.com: write
`;
const NO_BRAKE = "removal_brake: { minimum: 1000, percent: 100 }";

let harness: ScimHarness;
let tenants = 0;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

/** The account's unanswered reconcile requests that name `idpUserId`: what wakes the queue (its trigger NOTIFYs). */
const pendingFor = async (accountId: string, idpUserId: string) => (await q(
  `select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null and ?::uuid = any(idp_user_ids)`, [accountId, idpUserId]))[0].n;

const q = async (sql: string, bindings: unknown[] = []) => (await harness.db.knex.raw(sql, bindings as never[])).rows;

interface Leaver { client: ScimClient; accountId: string; idpId: string; userId: string; keyId: string; developers: string; email: string }

/** An account whose developer has a key, a session, a sent invitation and a grant, all reconciled. */
async function leaver(slug: string, brake = NO_BRAKE): Promise<Leaver> {
  const client = await harness.tenant(slug, [`${slug}.example.com`]);
  const accountId = (await findAccount(harness.db.knex, slug)).id;
  await saveRules(harness.db.knex, accountId, RULES.replace("BRAKE", brake).replaceAll("SLUG", slug), "test");
  const developers = (await client.post("/Groups", { schemas: [URN.group], displayName: "Developers" })).body.id;
  const email = `leaver@${slug}.example.com`;
  const idpId = (await client.post("/Users", { schemas: [URN.user], userName: email, emails: [{ value: email, primary: true, type: "work" }] })).body.id;
  expect((await client.patch(`/Groups/${developers}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: [{ value: idpId }] }] })).status).toBeLessThan(300);
  expect((await reconcileAccount(harness.db.knex, accountId, { trigger: "test" })).status).toBe("succeeded");
  const [{ id: userId }] = await q(`select id from users where email = ?`, [email]);
  const key = await createApiKey(harness.db.knex, { accountId, userId, name: "ci" });
  await createSession(harness.db.knex, accountId, userId);
  await createInvitation(harness.db.knex, { accountId, email: `friend-of-${slug}@example.org`, role: "member", invitedBy: userId });
  return { client, accountId, idpId, userId, keyId: key.id, developers, email };
}

/** What the person still has, read straight from the tables. */
async function accessOf(l: Leaver) {
  const [membership] = await q(`select status, (select count(*)::int from domain_grants g where g.membership_id = m.id) as grants
    from memberships m where m.account_id = ? and m.user_id = ?`, [l.accountId, l.userId]);
  return {
    membership: membership?.status ?? "none",
    grants: membership?.grants ?? 0,
    keyRevoked: (await q(`select revoked_at is not null as revoked from api_keys where id = ?`, [l.keyId]))[0].revoked,
    sessions: (await q(`select count(*)::int as n from sessions where user_id = ? and revoked_at is null`, [l.userId]))[0].n,
    invitations: (await q(`select count(*)::int as n from invitations where invited_by_user_id = ? and status = 'pending'`, [l.userId]))[0].n,
  };
}
const GONE = { membership: "suspended", grants: 0, keyRevoked: true, sessions: 0, invitations: 0 };
const KEPT = { membership: "active", grants: 1, keyRevoked: false, sessions: 1, invitations: 1 };

const DEACTIVATIONS: Array<[string, unknown]> = [
  ["Okta: replace, no path, value {active: false}", { op: "replace", value: { active: false } }],
  ["Entra: Replace, path active, value \"False\"", { op: "Replace", path: "active", value: "False" }],
  ["replace, path active, boolean false", { op: "replace", path: "active", value: false }],
  ["Entra: Replace, no path, value {active: \"False\"}", { op: "Replace", value: { active: "False" } }],
  ["Add, path active, \"false\"", { op: "Add", path: "active", value: "false" }],
];

test.each(DEACTIVATIONS)("PATCH %s: access is gone when the 200 arrives", async (_name, operation) => {
  const l = await leaver(`off-${++tenants}`);
  expect(await accessOf(l)).toEqual(KEPT);
  const answer = await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [operation] });
  expect(answer.status).toBe(200);
  expect(answer.body.active).toBe(false);
  expect(await accessOf(l)).toEqual(GONE);
  // one run did it, triggered by the departure, audited; its requests are answered, so the queue has nothing left
  const runs = await q(`select id, trigger, status from sync_runs where account_id = ? and trigger = 'departure'`, [l.accountId]);
  expect(runs).toEqual([{ id: expect.any(String), trigger: "departure", status: "succeeded" }]);
  const audit = (await q(`select action from audit_log where run_id = ?`, [runs[0].id])).map((a: { action: string }) => a.action).sort();
  expect(audit).toEqual(["domain.revoked", "invitation.revoked", "key.revoked", "member.deprovisioned", "session.revoked"]);
  expect((await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [l.accountId]))[0].n).toBe(0);
});

test("the queue's job the departure's request woke finds it answered: it plans nothing, and drift waits for the full run", async () => {
  const l = await leaver("answered-first");
  expect((await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", path: "active", value: false }] })).status).toBe(200);
  // drift a full run would repair (a manual edit of a managed row): a whole-account plan would see it
  await q(`update memberships set status = 'active', suspended_at = null where account_id = ? and user_id = ?`, [l.accountId, l.userId]);
  const runsBefore = (await q(`select count(*)::int as n from sync_runs where account_id = ?`, [l.accountId]))[0].n;
  expect((await reconcileAccount(harness.db.knex, l.accountId, { trigger: "snapshot change", scope: "requests" })).status).toBe("nothing-to-do");
  expect((await accessOf(l)).membership).toBe("active");
  expect((await q(`select count(*)::int as n from sync_runs where account_id = ?`, [l.accountId]))[0].n).toBe(runsBefore);
  // the scheduled full reconcile is what repairs drift
  expect((await reconcileAccount(harness.db.knex, l.accountId, { trigger: "scheduled", scope: "account" })).status).toBe("succeeded");
  expect((await accessOf(l)).membership).toBe("suspended");
});

test("PUT with active false (Okta's profile push): access is gone when the 200 arrives", async () => {
  const l = await leaver("put-off");
  const current = (await l.client.get(`/Users/${l.idpId}`)).body;
  const answer = await l.client.put(`/Users/${l.idpId}`, { schemas: [URN.user], userName: current.userName, emails: current.emails, active: false });
  expect(answer.status).toBe(200);
  expect(await accessOf(l)).toEqual(GONE);
});

test("DELETE /Users/{id}: access is gone when the 204 arrives", async () => {
  const l = await leaver("delete-off");
  expect((await l.client.delete(`/Users/${l.idpId}`)).status).toBe(204);
  const after = await accessOf(l);
  expect({ ...after, membership: "gone-or-suspended" }).toEqual({ ...GONE, membership: "gone-or-suspended" });
  expect(["suspended", "none"]).toContain(after.membership);
});

test("a profile change of a user already deactivated is no departure; a reactivation neither", async () => {
  const l = await leaver("profile");
  expect((await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", path: "active", value: false }] })).status).toBe(200);
  expect((await q(`select count(*)::int as n from sync_runs where account_id = ? and trigger = 'departure'`, [l.accountId]))[0].n).toBe(1);
  expect((await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", path: "displayName", value: "Gone Person" }] })).status).toBe(200);
  expect((await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", path: "active", value: true }] })).status).toBe(200);
  expect((await q(`select count(*)::int as n from sync_runs where account_id = ? and trigger = 'departure'`, [l.accountId]))[0].n).toBe(1);
  // the reactivation waits for the queue: its request is pending (and NOTIFYs the queue, test/scheduler/background-work.test.ts)
  expect((await accessOf(l)).membership).toBe("suspended");
  expect(await pendingFor(l.accountId, l.idpId)).toBeGreaterThan(0);
});

test("removing a user from a group is no departure: the answer comes first, the queue (woken) reconciles it", async () => {
  const l = await leaver("group-leave");
  expect(await pendingFor(l.accountId, l.idpId)).toBe(0);
  const answer = await l.client.patch(`/Groups/${l.developers}`, { schemas: [URN.patchOp], Operations: [{ op: "remove", path: `members[value eq "${l.idpId}"]` }] });
  expect(answer.status).toBeLessThan(300);
  expect(await pendingFor(l.accountId, l.idpId)).toBe(1);
  expect(await accessOf(l)).toEqual(KEPT);
  expect((await q(`select count(*)::int as n from reconcile_requests where account_id = ? and processed_at is null`, [l.accountId]))[0].n).toBe(1);
  expect((await reconcileAccount(harness.db.knex, l.accountId, { trigger: "snapshot change", scope: "requests" })).status).toBe("succeeded");
  expect((await accessOf(l)).grants).toBe(0);
});

test("a departure the removal brake holds is answered 200, its run held and alerted, access kept until approved", async () => {
  const l = await leaver("braked", "removal_brake: { minimum: 0, percent: 0 }");
  const answer = await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: false } }] });
  expect(answer.status).toBe(200);
  expect(await accessOf(l)).toEqual(KEPT);
  const [run] = await q(`select id, status from sync_runs where account_id = ? and trigger = 'departure'`, [l.accountId]);
  expect(run.status).toBe("held");
  const alerts = await q(`select kind, run_id from alerts where account_id = ? and resolved_at is null`, [l.accountId]);
  expect(alerts).toContainEqual({ kind: "run_held", run_id: run.id });
  expect((await q(`select count(*)::int as n from held_removals where run_id = ?`, [run.id]))[0].n).toBeGreaterThan(0);
});

test("a departure whose reconcile failed is retried by the IdP: the retry (user already inactive) revokes before its 200", async () => {
  const l = await leaver("retry");
  const deactivate = { schemas: [URN.patchOp], Operations: [{ op: "Replace", path: "active", value: "False" }] };
  await harness.db.knex.raw(`create function refuse_revocation() returns trigger language plpgsql as $$
    begin if new.revoked_at is not null then raise exception 'injected fault'; end if; return new; end $$`);
  await harness.db.knex.raw(`create trigger refuse_revocation before update on api_keys for each row execute function refuse_revocation()`);
  try {
    const failed = await l.client.patch(`/Users/${l.idpId}`, deactivate);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(failed.body).toEqual({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "503", detail: expect.stringMatching(/stored.*retry/) });
  } finally {
    await harness.db.knex.raw(`drop trigger refuse_revocation on api_keys; drop function refuse_revocation()`);
  }
  expect(await accessOf(l)).toEqual(KEPT);
  expect((await l.client.patch(`/Users/${l.idpId}`, deactivate)).status).toBe(200);
  expect(await accessOf(l)).toEqual(GONE);
});

// PGlite has one connection, so there nothing runs beside a full run's planning; on PostgreSQL a departure
// must not wait for it. The full run of a few thousand people is seen planning (a transaction of its own,
// reading the snapshot, no lock) before the deactivation is sent.
pgOnly("a departure completes while a full run of the same account plans; the full run then plans again and applies after it", async () => {
  const l = await leaver("concurrent");
  const [{ connection_id: connectionId }] = await q(`select connection_id from idp_users where id = ?`, [l.idpId]);
  await q(`insert into idp_users (id, connection_id, account_id, source_id, user_name, email, active, resource)
    select id, ?, ?, id::text, mail, mail, true, jsonb_build_object('schemas', jsonb_build_array(?::text), 'userName', mail, 'active', true)
    from (select gen_random_uuid() as id, 'p' || n || '@concurrent.example.com' as mail from generate_series(1, 4000) n) u`, [connectionId, l.accountId, URN.user]);
  await q(`insert into idp_group_members (group_id, member_id, member_type) select ?, id, 'User' from idp_users where account_id = ? and id <> ?`, [l.developers, l.accountId, l.idpId]);
  expect((await reconcileAccount(harness.db.knex, l.accountId, { trigger: "test" })).status).toBe("succeeded");
  // something for the full run to apply: one more developer
  const newcomer = (await l.client.post("/Users", { schemas: [URN.user], userName: "newcomer@concurrent.example.com" })).body.id;
  await l.client.patch(`/Groups/${l.developers}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: [{ value: newcomer }] }] });

  const full = reconcileAccount(harness.db.knex, l.accountId, { trigger: "scheduled" });
  let planning = false;
  for (let i = 0; i < 2000 && !planning; i++) {
    // this test file's sessions only (other files run beside it on the same database)
    const [row] = await q(`select exists (select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
      and application_name = current_setting('application_name') and backend_xmin is not null and backend_xid is null and query ilike '%idp_users%') as yes`);
    planning = row.yes;
  }
  expect(planning).toBe(true);
  const answer = await l.client.patch(`/Users/${l.idpId}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: false } }] });
  expect(answer.status).toBe(200);
  expect(await accessOf(l)).toEqual(GONE);
  const fullRun = await full;
  expect(fullRun.status).toBe("succeeded");

  // the departure committed first: its audit rows come before every row of the full run
  const [order] = await q(`select (select max(a.id) from audit_log a join sync_runs r on r.id = a.run_id where r.account_id = ? and r.trigger = 'departure') as departure,
    (select min(id) from audit_log where run_id = ?) as full_run`, [l.accountId, fullRun.runId]);
  expect(BigInt(order.departure)).toBeLessThan(BigInt(order.full_run));
  // and the full run acted on what the departure left: nothing revoked twice, the newcomer added
  expect((await q(`select count(*)::int as n from audit_log where account_id = ? and action = 'key.revoked' and target_id = ?`, [l.accountId, l.keyId]))[0].n).toBe(1);
  expect(fullRun.plan.actions.some((a) => "userId" in a && a.userId === l.userId)).toBe(false);
  expect((await q(`select count(*)::int as n from users where email = 'newcomer@concurrent.example.com'`))[0].n).toBe(1);
}, 120_000);

pgOnly("a scheduled full run overtaken by other runs' applies at every plan is deferred, never planned under the lock; the next one applies", async () => {
  const l = await leaver("overtaken");
  // something for the full run to apply: one more developer
  const newcomer = (await l.client.post("/Users", { schemas: [URN.user], userName: "newcomer@overtaken.example.com" })).body.id;
  await l.client.patch(`/Groups/${l.developers}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: [{ value: newcomer }] }] });
  const newcomers = async () => (await q(`select count(*)::int as n from users where email = 'newcomer@overtaken.example.com'`))[0].n;

  // another replica's runs applying back to back, as departures sent one after another do: each bumps the generation
  const other = harness.db.anotherPool();
  let done = false;
  let bumps = 0;
  const applies = (async () => {
    while (!done) {
      await other.raw(`update accounts set reconcile_generation = reconcile_generation + 1 where id = ?`, [l.accountId]);
      bumps++;
    }
  })();
  // the other pool's first connection takes a moment: a full run faster than that would see no apply at all
  while (bumps === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const full = await reconcileAccount(harness.db.knex, l.accountId, { trigger: "scheduled", deferWhenBusy: true }).finally(() => (done = true));
  await applies;
  expect(full.status).toBe("deferred");
  expect(full.applied).toBe(0);
  expect(await newcomers()).toBe(0);

  const next = await reconcileAccount(harness.db.knex, l.accountId, { trigger: "scheduled", deferWhenBusy: true });
  expect(next.status).toBe("succeeded");
  expect(await newcomers()).toBe(1);
}, 120_000);
