// The fleet benchmark's data: many small accounts, pushed through SCIM as an IdP would (users, a
// "Team" group granting write on team.example.com, an "Ops" group granting read on ops.example.com),
// and one large account written straight into the snapshot tables (as bench/reconcile-bench.ts does:
// pushing 100,000 users through SCIM would take minutes). Accounts, connections and rules are made
// by idsync's own functions; every account is then reconciled once here, so the measured slots start
// from a settled state, and every small account's members get an API key, a session and an
// invitation they sent: what a departure must revoke.
import type { Knex } from "knex";
import { createAccount } from "../src/accounts/accounts.ts";
import { createScimConnection } from "../src/accounts/connections.ts";
import { saveRules } from "../src/accounts/account-rules.ts";
import { reconcileAccount } from "../src/reconcile/reconcile-account.ts";
import { request, SCIM_JSON, URN } from "./preload.ts";

export const TEAM_DOMAIN = "team.example.com";
export const OPS_DOMAIN = "ops.example.com";

// each member is in Team (one write grant), so a departure takes two counted removals (membership and
// grant) and five departures stay within the brake's default minimum of ten
const SMALL_RULES = `version: 1
default: none
rules:
  - name: team
    group: Team
    domains:
      ${TEAM_DOMAIN}: write
  - name: ops
    group: Ops
    domains:
      ${OPS_DOMAIN}: read
`;

const BIG_GROUPS = 100;
const BIG_DOMAINS = Array.from({ length: 10 }, (_, i) => `d${i}.big.example.com`);
const BIG_RULES = `version: 1
default: member
rules:
${Array.from({ length: 20 }, (_, g) => `  - name: group-${g}
    group: Group ${g}
    domains:
      ${BIG_DOMAINS[g % 10]}: ${g % 2 === 0 ? "write" : "read"}
`).join("")}`;

export interface SeededUser {
  /** The SCIM id (the idp_users row). */
  readonly idpId: string;
  /** The app user the first reconcile linked it to. */
  userId: string;
}

export interface SmallAccount {
  readonly id: string;
  readonly slug: string;
  readonly token: string;
  readonly users: SeededUser[];
  readonly teamGroupId: string;
  readonly opsGroupId: string;
  opsDomainId: string;
}

export interface Seeded {
  readonly small: SmallAccount[];
  readonly bigAccountId: string;
  /** Every account, the large one included: what each slot must reconcile. */
  readonly accountIds: string[];
  readonly seconds: number;
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  }));
}

const slugOf = (i: number) => `acct-${String(i).padStart(4, "0")}`;
/** 5 to 10 members. */
const teamSize = (i: number) => 5 + (i % 6);

async function pushSmallAccount(scimBase: string, token: string, slug: string, size: number): Promise<{ users: SeededUser[]; teamGroupId: string; opsGroupId: string }> {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": SCIM_JSON, Accept: SCIM_JSON };
  const users: SeededUser[] = [];
  for (let k = 0; k < size; k++) {
    const userName = `user-${k}@${slug}.example.com`;
    const body = JSON.stringify({ schemas: [URN.user], userName, name: { givenName: "Fleet", familyName: `User ${k}` },
      displayName: `Fleet User ${k}`, emails: [{ value: userName, type: "work", primary: true }], active: true });
    const created = JSON.parse((await request("POST", `${scimBase}/Users`, headers, body, 201)).body) as { id: string };
    users.push({ idpId: created.id, userId: "" });
  }
  const group = async (displayName: string, members: SeededUser[]) => (JSON.parse((await request("POST", `${scimBase}/Groups`, headers,
    JSON.stringify({ schemas: [URN.group], displayName, members: members.map((u) => ({ value: u.idpId })) }), 201)).body) as { id: string }).id;
  const teamGroupId = await group("Team", users);
  // user 0 starts in Ops; user 1 is the one the workload moves in and out of it
  const opsGroupId = await group("Ops", users.slice(0, 1));
  return { users, teamGroupId, opsGroupId };
}

/** The large account's snapshot in one transaction, shaped as SCIM writes it (resource without id and meta). */
async function writeBigSnapshot(knex: Knex, accountId: string, connectionId: string, users: number): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`insert into idp_users (id, connection_id, account_id, source_id, user_name, display_name, email, active, resource)
      select id, ?, ?, id::text, mail, 'Big User ' || n, mail, true, jsonb_build_object('schemas', jsonb_build_array(?::text),
        'userName', mail, 'name', jsonb_build_object('givenName', 'Big', 'familyName', 'User ' || n), 'displayName', 'Big User ' || n,
        'emails', jsonb_build_array(jsonb_build_object('value', mail, 'type', 'work', 'primary', true)), 'active', true)
      from (select gen_random_uuid() as id, n, 'user-' || n || '@big.example.com' as mail from generate_series(0, ? - 1) n) u`,
    [connectionId, accountId, URN.user, users]);
    await trx.raw(`insert into idp_groups (id, connection_id, account_id, source_id, display_name, resource, unique_name)
      select id, ?, ?, id::text, name, jsonb_build_object('schemas', jsonb_build_array(?::text), 'displayName', name), lower(name)
      from (select gen_random_uuid() as id, 'Group ' || g as name from generate_series(0, ? - 1) g) x`,
    [connectionId, accountId, URN.group, BIG_GROUPS]);
    // user n is in groups n mod G and (7n + 3) mod G: two distinct groups (their difference, 6n + 3, is odd)
    await trx.raw(`insert into idp_group_members (group_id, member_id, member_type)
      select g.id, u.id, 'User' from (select id, row_number() over (order by user_name) - 1 as n from idp_users where account_id = ?) u
      cross join lateral (values (u.n % ?), ((u.n * 7 + 3) % ?)) k(g)
      join idp_groups g on g.account_id = ? and g.display_name = 'Group ' || k.g`,
    [accountId, BIG_GROUPS, BIG_GROUPS, accountId]);
  });
}

/** API keys (for the team domain), sessions and sent invitations for every IdP-managed member of the small accounts. */
async function giveMembersSecrets(knex: Knex): Promise<void> {
  const members = `select m.account_id, m.user_id from memberships m join accounts a on a.id = m.account_id
    where a.slug like 'acct-%' and m.managed_by_connection_id is not null and m.status = 'active'`;
  await knex.raw(`with member as (${members}),
      key as (insert into api_keys (account_id, created_by_user_id, name, token_prefix, secret_hash, scope)
        select account_id, user_id, 'fleet bench', 'idsync_key_flt', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), 'domains' from member
        returning id, account_id)
    insert into api_key_domains (api_key_id, domain_id) select key.id, d.id from key join sending_domains d on d.account_id = key.account_id and d.name = ?`,
  [TEAM_DOMAIN]);
  await knex.raw(`insert into sessions (account_id, user_id, token_hash, expires_at)
    select account_id, user_id, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now() + interval '1 day' from (${members}) m`);
  await knex.raw(`insert into invitations (account_id, email, role, invited_by_user_id, token_hash, expires_at)
    select account_id, 'guest-' || user_id || '@guests.example.com', 'member', user_id, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now() + interval '7 days'
    from (${members}) m`);
}

export async function seedFleet(knex: Knex, scimBase: string, sizes: { accounts: number; bigUsers: number }, log: (line: string) => void): Promise<Seeded> {
  const started = performance.now();
  const slugs = Array.from({ length: sizes.accounts }, (_, i) => slugOf(i));
  const tokens = new Map<string, string>();
  await inParallel(slugs, 8, async (slug) => {
    await createAccount(knex, { slug, domains: [TEAM_DOMAIN, OPS_DOMAIN], ownerEmail: `owner@${slug}.example.com` }, "fleet-bench");
    tokens.set(slug, (await createScimConnection(knex, slug, undefined, "fleet-bench")).token);
  });
  log(`  ${slugs.length} accounts with SCIM connections (${((performance.now() - started) / 1000).toFixed(0)} s)`);

  const small: SmallAccount[] = [];
  let pushed = 0;
  await inParallel(slugs, 16, async (slug, i) => {
    const account = await pushSmallAccount(scimBase, tokens.get(slug)!, slug, teamSize(i));
    small[i] = { id: "", slug, token: tokens.get(slug)!, opsDomainId: "", ...account };
    if (++pushed % 500 === 0) log(`  ${pushed} accounts pushed through SCIM (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  });
  const ids = new Map((await knex.raw<{ rows: Array<{ slug: string; id: string; ops: string }> }>(
    `select a.slug, a.id, d.id as ops from accounts a join sending_domains d on d.account_id = a.id and d.name = ?`, [OPS_DOMAIN])).rows.map((r) => [r.slug, r]));
  for (const account of small) {
    const row = ids.get(account.slug)!;
    (account as { id: string }).id = row.id;
    account.opsDomainId = row.ops;
  }
  // rules after the users: the reconciles below, not the pushes, give the access
  await inParallel(small, 8, async (account) => void await saveRules(knex, account.id, SMALL_RULES, "fleet-bench"));

  const big = await createAccount(knex, { slug: "big", domains: BIG_DOMAINS, ownerEmail: "owner@big.example.com" }, "fleet-bench");
  const bigConnection = await createScimConnection(knex, "big", undefined, "fleet-bench");
  await writeBigSnapshot(knex, big.id, bigConnection.connection.id, sizes.bigUsers);
  await saveRules(knex, big.id, BIG_RULES, "fleet-bench");
  await knex.raw("vacuum analyze");
  log(`  large account: ${sizes.bigUsers} users in ${BIG_GROUPS} groups written (${((performance.now() - started) / 1000).toFixed(0)} s)`);

  // the large account's first apply runs beside the small ones
  const bigApply = reconcileAccount(knex, big.id, { trigger: "fleet bench seed" });
  await inParallel(small, 4, async (account) => void await reconcileAccount(knex, account.id, { trigger: "fleet bench seed" }));
  const bigResult = await bigApply;
  log(`  every account reconciled once (large: ${bigResult.status}, ${bigResult.applied} actions) (${((performance.now() - started) / 1000).toFixed(0)} s)`);

  const links = new Map((await knex.raw<{ rows: Array<{ idp_user_id: string; user_id: string }> }>(
    `select i.idp_user_id, i.user_id from user_identities i join accounts a on a.id = i.account_id where a.slug like 'acct-%'`)).rows.map((r) => [r.idp_user_id, r.user_id]));
  for (const user of small.flatMap((a) => a.users)) {
    const userId = links.get(user.idpId);
    if (!userId) throw new Error(`seeding: IdP user ${user.idpId} was not linked to an app user by its account's reconcile`);
    user.userId = userId;
  }
  await giveMembersSecrets(knex);
  await knex.raw("vacuum analyze");
  return { small, bigAccountId: big.id, accountIds: [...small.map((a) => a.id), big.id], seconds: (performance.now() - started) / 1000 };
}
