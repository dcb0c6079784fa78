// Soak: many accounts' SCIM clients interleave creates, reads, filters and PATCHes at full speed.
// Every response is checked as it arrives (no value, id or reference of another account), and at
// the end each account's listing is exactly what it created, with its PATCHes applied.
// `SOAK=full` scales the work up (npm run soak); the default is the short CI run.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";
import { seededRandom } from "../fakes/seeded-random.ts";

const FULL = process.env.SOAK === "full";
const ACCOUNTS = FULL ? 12 : 6;
const CLIENTS_PER_ACCOUNT = FULL ? 8 : 4;
const STEPS_PER_CLIENT = FULL ? 200 : 60;
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness({ env: { IDSYNC_SCIM_RATE_LIMIT: "100000", IDSYNC_SCIM_RATE_BURST: "100000" } });
});
afterAll(() => harness?.close());

const rng = seededRandom;

interface ExpectedUser { id: string; userName: string; active: boolean; givenName: string; familyName: string }
interface ExpectedGroup { id: string; displayName: string; members: Set<string> }

interface Account {
  index: number;
  slug: string;
  /** every value this account sends carries this marker; no other account's marker may reach it */
  marker: string;
  client: ScimClient;
  users: Map<string, ExpectedUser>;
  groups: Map<string, ExpectedGroup>;
  /** users and groups with a write in flight: not patched by a second client at the same time */
  busy: Set<string>;
}

const stats = { requests: 0, errors: 0, fiveXX: 0, foreignData: 0, misplaced: 0 };
const problems: string[] = [];
let accounts: Account[] = [];

const markerOf = (i: number) => `acct${String(i).padStart(2, "0")}x`;
const MARKER = /acct\d\dx/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** which account created each id */
const ownerOf = new Map<string, Account>();

/** Checks a response as it arrives: its status, and that nothing in it belongs to another account (`echoed`: the foreign id a 404 names back). */
function inspect(account: Account, what: string, response: ScimResponse, expected: number[], echoed?: string): ScimResponse {
  stats.requests += 1;
  if (response.status >= 500) stats.fiveXX += 1;
  if (!expected.includes(response.status)) {
    stats.errors += 1;
    problems.push(`${account.slug} ${what}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  }
  const text = response.body === undefined ? "" : JSON.stringify(response.body);
  const foreignMarkers = [...new Set(text.match(MARKER) ?? [])].filter((m) => m !== account.marker);
  const foreignIds = [...new Set(text.match(UUID) ?? [])].filter((id) => { const owner = ownerOf.get(id); return owner !== undefined && owner !== account && id !== echoed; });
  if (foreignMarkers.length > 0 || foreignIds.length > 0) {
    stats.foreignData += 1;
    problems.push(`${account.slug} ${what}: foreign data ${[...foreignMarkers, ...foreignIds].join(", ")}`);
  }
  return response;
}

/**
 * Resources of a list response must all be ones this account created. An id not known yet may be one
 * another client of the same account created whose response has not arrived: it is checked at the end.
 */
const unconfirmed: Array<{ account: Account; what: string; id: string }> = [];
function checkListedIds(account: Account, what: string, resources: Array<{ id: string }>, kind: "users" | "groups", inFlight: Set<string>): void {
  for (const r of resources ?? []) {
    if (account[kind].has(r.id) || inFlight.has(r.id)) continue;
    if (ownerOf.has(r.id)) {
      stats.foreignData += 1;
      problems.push(`${account.slug} ${what}: listed ${kind} ${r.id} of ${ownerOf.get(r.id)!.slug}`);
    } else unconfirmed.push({ account, what, id: r.id });
  }
}

const filterPath = (resource: string, filter: string) => `/${resource}?filter=${encodeURIComponent(filter)}`;

async function runClient(account: Account, clientIndex: number, seed: number): Promise<void> {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[Math.floor(random() * items.length)]);
  const { client, marker } = account;
  const inFlight = new Set<string>();
  let serial = 0;

  for (let step = 0; step < STEPS_PER_CLIENT; step++) {
    const roll = random();
    const users = [...account.users.values()];
    const groups = [...account.groups.values()];
    if (roll < 0.25 || users.length < 3) {
      // create a user; userName, email and names all carry the account marker
      const userName = `${marker}-c${clientIndex}-u${serial++}@${account.slug}.example.com`;
      const created = inspect(account, "POST /Users", await client.post("/Users", {
        schemas: [USER], userName, name: { givenName: `${marker}given`, familyName: `${marker}family` },
        emails: [{ type: "work", primary: true, value: userName }], displayName: `${marker} ${userName}`,
      }), [201]);
      if (created.status === 201) {
        if (created.body.userName !== userName) {
          stats.misplaced += 1;
          problems.push(`${account.slug} POST /Users answered ${created.body.userName} for ${userName}`);
        }
        ownerOf.set(created.body.id, account);
        account.users.set(created.body.id, { id: created.body.id, userName, active: true, givenName: `${marker}given`, familyName: `${marker}family` });
      }
    } else if (roll < 0.4) {
      // read one of ours by id, and one of another account's by id (must be 404)
      const mine = pick(users)!;
      const got = inspect(account, `GET /Users/${mine.id}`, await client.get(`/Users/${mine.id}`), [200]);
      if (got.status === 200 && got.body.id !== mine.id) {
        stats.misplaced += 1;
        problems.push(`${account.slug} GET /Users/${mine.id} answered ${got.body.id}`);
      }
      const other = pick(accounts.filter((a) => a !== account && a.users.size > 0));
      const theirs = other && pick([...other.users.keys()]);
      if (theirs) inspect(account, `GET foreign /Users/${theirs}`, await client.get(`/Users/${theirs}`), [404], theirs);
      const theirGroup = other && pick([...other.groups.keys()]);
      if (theirGroup) inspect(account, `GET foreign /Groups/${theirGroup}`, await client.get(`/Groups/${theirGroup}`), [404], theirGroup);
    } else if (roll < 0.6) {
      // filters: eq (case-insensitive), sw, co
      const target = pick(users)!;
      const kind = pick(["eq", "sw", "co"] as const)!;
      const filter = kind === "eq" ? `userName eq "${target.userName.toUpperCase()}"`
        : kind === "sw" ? `userName sw "${marker}-c${clientIndex}"`
          : `userName co "${account.slug}.example"`;
      const listed = inspect(account, `GET /Users?filter=${filter}`, await client.get(`${filterPath("Users", filter)}&count=1000`), [200]);
      if (listed.status === 200) {
        checkListedIds(account, `filter ${filter}`, listed.body.Resources, "users", inFlight);
        if (kind === "eq" && (listed.body.totalResults !== 1 || listed.body.Resources?.[0]?.id !== target.id)) {
          stats.misplaced += 1;
          problems.push(`${account.slug} ${filter}: ${listed.body.totalResults} results`);
        }
        // co on the account's own domain names every user it has (at least those acknowledged)
        if (kind === "co" && listed.body.totalResults < users.length) {
          stats.misplaced += 1;
          problems.push(`${account.slug} ${filter}: ${listed.body.totalResults} results, created ${users.length}`);
        }
      }
    } else if (roll < 0.75) {
      // PATCH active and name of a user nobody else is writing right now
      const target = pick(users.filter((u) => !account.busy.has(u.id)));
      if (!target) continue;
      account.busy.add(target.id);
      const active = random() < 0.5;
      const givenName = `${marker}given${step}c${clientIndex}`;
      const patched = inspect(account, `PATCH /Users/${target.id}`, await client.patch(`/Users/${target.id}`, {
        schemas: [PATCH], Operations: [
          { op: "replace", path: "active", value: active },
          { op: "replace", path: "name.givenName", value: givenName },
        ],
      }), [200, 204]);
      if (patched.status === 200 || patched.status === 204) {
        target.active = active;
        target.givenName = givenName;
        if (patched.status === 200 && (patched.body.id !== target.id || patched.body.active !== active || patched.body.name?.givenName !== givenName)) {
          stats.misplaced += 1;
          problems.push(`${account.slug} PATCH /Users/${target.id} answered ${JSON.stringify(patched.body).slice(0, 200)}`);
        }
      }
      account.busy.delete(target.id);
    } else if (roll < 0.85) {
      // create a group, then add some of our users to it (Entra shape)
      const displayName = `${marker} team c${clientIndex} g${serial++}`;
      const created = inspect(account, "POST /Groups", await client.post("/Groups", { schemas: [GROUP], displayName }), [201]);
      if (created.status !== 201) continue;
      const group: ExpectedGroup = { id: created.body.id, displayName, members: new Set() };
      inFlight.add(group.id);
      ownerOf.set(group.id, account);
      account.groups.set(group.id, group);
      account.busy.add(group.id);
      const members = [...new Set(Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(users)!.id))];
      const added = inspect(account, `PATCH /Groups/${group.id} add`, await client.patch(`/Groups/${group.id}`, {
        schemas: [PATCH], Operations: [{ op: "Add", path: "members", value: members.map((value) => ({ value })) }],
      }), [200, 204]);
      if (added.status === 200 || added.status === 204) members.forEach((m) => group.members.add(m));
      account.busy.delete(group.id);
      inFlight.delete(group.id);
    } else if (roll < 0.92) {
      // remove a member of a group (Okta shape)
      const group = pick(groups.filter((g) => g.members.size > 0 && !account.busy.has(g.id)));
      if (!group) continue;
      account.busy.add(group.id);
      const member = pick([...group.members])!;
      const removed = inspect(account, `PATCH /Groups/${group.id} remove`, await client.patch(`/Groups/${group.id}`, {
        schemas: [PATCH], Operations: [{ op: "remove", path: `members[value eq "${member}"]` }],
      }), [200, 204]);
      if (removed.status === 200 || removed.status === 204) group.members.delete(member);
      account.busy.delete(group.id);
    } else {
      // group filters and a page of groups
      const filter = random() < 0.5 ? `displayName sw "${marker} team"` : `displayName co "c${clientIndex} g"`;
      const listed = inspect(account, `GET /Groups?filter=${filter}`, await client.get(`${filterPath("Groups", filter)}&count=1000`), [200]);
      if (listed.status === 200) checkListedIds(account, `filter ${filter}`, listed.body.Resources, "groups", inFlight);
      const page = inspect(account, "GET /Users page", await client.get(`/Users?startIndex=${1 + Math.floor(random() * 5)}&count=10`), [200]);
      if (page.status === 200) checkListedIds(account, "GET /Users page", page.body.Resources, "users", inFlight);
    }
  }
}

/** An account's full listing, page by page (a page holds at most the server's maximum). */
async function listAll(account: Account, resource: "Users" | "Groups"): Promise<{ total: number; resources: Array<{ id: string }> }> {
  const resources: Array<{ id: string }> = [];
  let total = 0;
  for (let start = 1; ; start += 500) {
    const page = inspect(account, `final GET /${resource}`, await account.client.get(`/${resource}?startIndex=${start}&count=500`), [200]);
    if (page.status !== 200) return { total: -1, resources };
    total = page.body.totalResults;
    resources.push(...(page.body.Resources ?? []));
    if (!page.body.Resources?.length || resources.length >= total) return { total, resources };
  }
}

test("accounts interleaving creates, reads, filters and PATCHes each see and keep exactly their own resources", async () => {
  const started = Date.now();
  accounts = await Promise.all(Array.from({ length: ACCOUNTS }, async (_, index) => {
    const slug = `soak-iso-${index}`;
    return { index, slug, marker: markerOf(index), client: await harness.tenant(slug), users: new Map(), groups: new Map(), busy: new Set() } as Account;
  }));
  // every account's clients start together and run concurrently with every other account's
  await Promise.all(accounts.flatMap((account) =>
    Array.from({ length: CLIENTS_PER_ACCOUNT }, (_, c) => runClient(account, c, 1000 * account.index + c + 1))));

  // afterwards every resource is exactly where it was sent
  for (const account of accounts) {
    const users = await listAll(account, "Users");
    const listed = new Map<string, any>(users.resources.map((r: { id: string }) => [r.id, r])); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (users.total !== account.users.size || listed.size !== account.users.size) {
      stats.misplaced += Math.abs(users.total - account.users.size) || 1;
      problems.push(`${account.slug}: lists ${users.total} users, created ${account.users.size}`);
    }
    for (const expected of account.users.values()) {
      const got = listed.get(expected.id);
      if (!got || got.userName !== expected.userName || got.active !== expected.active || got.name?.givenName !== expected.givenName
        || got.name?.familyName !== expected.familyName || got.emails?.[0]?.value !== expected.userName) {
        stats.misplaced += 1;
        problems.push(`${account.slug}: user ${expected.id} is ${JSON.stringify(got).slice(0, 300)}, expected ${JSON.stringify(expected)}`);
      }
    }
    const groups = await listAll(account, "Groups");
    const listedGroups = new Map<string, any>(groups.resources.map((r: { id: string }) => [r.id, r])); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (groups.total !== account.groups.size || listedGroups.size !== account.groups.size) {
      stats.misplaced += 1;
      problems.push(`${account.slug}: lists ${groups.total} groups, created ${account.groups.size}`);
    }
    for (const expected of account.groups.values()) {
      const got = listedGroups.get(expected.id);
      const members = new Set<string>((got?.members ?? []).map((m: { value: string }) => m.value));
      if (!got || got.displayName !== expected.displayName || members.size !== expected.members.size || [...expected.members].some((m) => !members.has(m))) {
        stats.misplaced += 1;
        problems.push(`${account.slug}: group ${expected.id} is ${JSON.stringify(got).slice(0, 300)}, expected ${[...expected.members].join(",")}`);
      }
    }
    // and in the database: every row of this account's connection is one it created
    const { rows } = await harness.db.knex.raw(`select count(*)::int as n from idp_users where connection_id = ? and deleted_at is null`, [account.client.connectionId]);
    if (rows[0].n !== account.users.size) {
      stats.misplaced += 1;
      problems.push(`${account.slug}: ${rows[0].n} idp_users rows, created ${account.users.size}`);
    }
  }
  for (const { account, what, id } of unconfirmed) {
    if (ownerOf.get(id) !== account) {
      stats.foreignData += 1;
      problems.push(`${account.slug} ${what}: listed ${id}, created by ${ownerOf.get(id)?.slug ?? "nobody"}`);
    }
  }
  const { rows: crossMembers } = await harness.db.knex.raw(
    `select count(*)::int as n from idp_group_members m join idp_groups g on g.id = m.group_id
     left join idp_users u on u.id = m.member_id left join idp_groups mg on mg.id = m.member_id
     where coalesce(u.connection_id, mg.connection_id) is distinct from g.connection_id`);
  stats.misplaced += crossMembers[0].n;

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`SOAK tenant-isolation: accounts=${ACCOUNTS} clients=${ACCOUNTS * CLIENTS_PER_ACCOUNT} requests=${stats.requests} errors=${stats.errors} 5xx=${stats.fiveXX} foreign_data=${stats.foreignData} misplaced=${stats.misplaced} seconds=${seconds}`);
  expect(problems.slice(0, 20)).toEqual([]);
  expect(stats).toMatchObject({ errors: 0, fiveXX: 0, foreignData: 0, misplaced: 0 });
}, FULL ? 1_800_000 : 120_000);
