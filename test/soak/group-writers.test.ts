// Soak: one group, many writers. N SCIM clients add and remove members of the same group at once,
// as Entra does in parallel, in the Entra (Add/Remove members with a value list) and Okta (remove by
// `members[value eq "…"]` path) shapes, on private and shared ("hot") users. The server applies
// changes of one group one after another, so the final membership must equal the operations applied
// in the order the server acknowledged them: no lost update, no deadlock, no 5xx.
// `SOAK=full` scales the work up (npm run soak); the default is the short CI run.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";
import { seededRandom } from "../fakes/seeded-random.ts";

const FULL = process.env.SOAK === "full";
const WRITERS = FULL ? 32 : 8;
const ROUNDS = FULL ? 10 : 4;
const OPS_PER_WRITER_PER_ROUND = FULL ? 40 : 15;
const PRIVATE_USERS_PER_WRITER = 6;
const HOT_USERS = FULL ? 12 : 6;
/** a request not answered in this time is counted as a deadlock (a stuck lock wait) */
const REQUEST_TIMEOUT_MS = 30_000;
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

let harness: ScimHarness;
let client: ScimClient;
let groupId: string;
let privateUsers: string[][];
let hotUsers: string[];

beforeAll(async () => {
  harness = await startScimHarness({ env: { IDSYNC_SCIM_RATE_LIMIT: "100000", IDSYNC_SCIM_RATE_BURST: "100000" } });
  client = await harness.tenant("soak-group-writers");
  const create = async (name: string) => {
    const created = await client.post("/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `${name}@writers.example.com`,
      emails: [{ type: "work", primary: true, value: `${name}@writers.example.com` }],
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  privateUsers = await Promise.all(Array.from({ length: WRITERS }, (_, w) =>
    Promise.all(Array.from({ length: PRIVATE_USERS_PER_WRITER }, (_, i) => create(`w${w}-u${i}`)))));
  hotUsers = await Promise.all(Array.from({ length: HOT_USERS }, (_, i) => create(`hot${i}`)));
  const group = await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Everyone at once" });
  expect(group.status).toBe(201);
  groupId = group.body.id;
}, 120_000);
afterAll(() => harness?.close());

const rng = seededRandom;

/** A membership operation's effect, in order: add (true) or remove (false) of one user. */
type Effect = readonly [userId: string, present: boolean];
interface Operation { body: unknown; effects: Effect[] }

const entraAdd = (ids: string[]) => ({ op: "Add", path: "members", value: ids.map((value) => ({ value })) });
const entraRemove = (ids: string[]) => ({ op: "Remove", path: "members", value: ids.map((value) => ({ value })) });
const oktaRemove = (id: string) => ({ op: "remove", path: `members[value eq "${id}"]` });
const patchOf = (operations: unknown[]) => ({ schemas: [PATCH], Operations: operations });

/** A seeded PATCH of one writer: its own users and the hot users every writer touches. */
function nextOperation(random: () => number, own: string[]): Operation {
  const pool = random() < 0.5 ? own : hotUsers;
  const pickDistinct = (n: number, from: string[] = pool) => {
    const chosen = new Set<string>();
    while (chosen.size < Math.min(n, from.length)) chosen.add(from[Math.floor(random() * from.length)]!);
    return [...chosen];
  };
  const roll = random();
  if (roll < 0.35) {
    const ids = pickDistinct(1 + Math.floor(random() * 3));
    return { body: patchOf([entraAdd(ids)]), effects: ids.map((id) => [id, true]) };
  }
  if (roll < 0.55) {
    const [id] = pickDistinct(1);
    return { body: patchOf([oktaRemove(id!)]), effects: [[id!, false]] };
  }
  if (roll < 0.7) {
    const ids = pickDistinct(1 + Math.floor(random() * 2));
    return { body: patchOf([entraRemove(ids)]), effects: ids.map((id) => [id, false]) };
  }
  if (roll < 0.85) {
    // add some and remove others in one PATCH (distinct ids: the single-statement path)
    const ids = pickDistinct(3, [...own, ...hotUsers]);
    return { body: patchOf([entraAdd(ids.slice(0, 2)), oktaRemove(ids[2]!)]), effects: [[ids[0]!, true], [ids[1]!, true], [ids[2]!, false]] };
  }
  // one id on both sides: order within the PATCH decides (the transactional path)
  const [id] = pickDistinct(1);
  return random() < 0.5
    ? { body: patchOf([oktaRemove(id!), entraAdd([id!])]), effects: [[id!, false], [id!, true]] }
    : { body: patchOf([entraAdd([id!]), entraRemove([id!])]), effects: [[id!, true], [id!, false]] };
}

const stats = { operations: 0, fiveXX: 0, deadlocks: 0, errors: 0 };
const problems: string[] = [];

async function send(body: unknown): Promise<ScimResponse | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => { timer = setTimeout(() => resolve("timeout"), REQUEST_TIMEOUT_MS); });
  try {
    return await Promise.race([client.patch(`/Groups/${groupId}`, body), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one round: every writer sends its operations one after another, all writers at once. */
async function round(roundIndex: number, acknowledged: Operation[]): Promise<void> {
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    const random = rng(100_000 * (roundIndex + 1) + w);
    for (let i = 0; i < OPS_PER_WRITER_PER_ROUND; i++) {
      const operation = nextOperation(random, privateUsers[w]!);
      const response = await send(operation.body);
      stats.operations += 1;
      if (response === "timeout") {
        stats.deadlocks += 1;
        problems.push(`writer ${w}: PATCH not answered in ${REQUEST_TIMEOUT_MS} ms`);
        continue;
      }
      // the order the server acknowledged operations in is the order it applied them (row lock)
      if (response.status === 204 || response.status === 200) acknowledged.push(operation);
      else {
        stats.errors += 1;
        if (response.status >= 500) stats.fiveXX += 1;
        if (/deadlock/i.test(JSON.stringify(response.body))) stats.deadlocks += 1;
        problems.push(`writer ${w}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      }
    }
  }));
}

function expectedMembers(acknowledged: readonly Operation[]): Set<string> {
  const members = new Set<string>();
  for (const operation of acknowledged) {
    for (const [id, present] of operation.effects) {
      if (present) members.add(id);
      else members.delete(id);
    }
  }
  return members;
}

const difference = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x));

test("a remove waiting for the group's lock sees the member its holder added meanwhile (lost remove)", async () => {
  // the lock holder: another writer that has bumped the group and added the member, not yet committed
  const group = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Lock race" })).body.id as string;
  const member = hotUsers[0]!;
  const holder = await harness.db.knex.transaction();
  let removal: Promise<ScimResponse> | undefined;
  try {
    await holder.raw(`update idp_groups set version = version + 1 where id = ?`, [group]);
    await holder.raw(`insert into idp_group_members (group_id, member_id, member_type) values (?, ?, 'User')`, [group, member]);
    removal = client.patch(`/Groups/${group}`, patchOf([oktaRemove(member)]));
    if (harness.db.kind === "postgres") {
      // wait until the removal is queued behind the holder's row lock
      for (let waited = 0; waited < 5000; waited += 25) {
        const { rows: [{ n }] } = await harness.db.knex.raw(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
        if (n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } else {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await holder.commit();
  }
  expect((await removal!).status).toBe(204);
  const { rows } = await harness.db.knex.raw(`select member_id from idp_group_members where group_id = ?`, [group]);
  expect(rows).toEqual([]);
  expect((await client.get(`/Groups/${group}`)).body.members ?? []).toEqual([]);
});

test("concurrent writers of one group: final membership equals the acknowledged operations, in order", async () => {
  const started = Date.now();
  const acknowledged: Operation[] = [];
  let lostUpdates = 0;
  let final = new Set<string>();
  let expected = new Set<string>();
  for (let r = 0; r < ROUNDS; r++) {
    await round(r, acknowledged);
    // checkpoint after every round: through SCIM and in the database
    expected = expectedMembers(acknowledged);
    const read = await client.get(`/Groups/${groupId}`);
    expect(read.status).toBe(200);
    final = new Set<string>((read.body.members ?? []).map((m: { value: string }) => m.value));
    const { rows } = await harness.db.knex.raw(`select member_id from idp_group_members where group_id = ?`, [groupId]);
    const stored = new Set<string>(rows.map((row: { member_id: string }) => row.member_id));
    const missing = difference(expected, final);
    const extra = difference(final, expected);
    lostUpdates += missing.length + extra.length;
    if (missing.length + extra.length > 0) problems.push(`round ${r}: missing ${missing.join(",")} extra ${extra.join(",")}`);
    if (difference(stored, final).length + difference(final, stored).length > 0) problems.push(`round ${r}: SCIM and idp_group_members disagree`);
    if (stored.size !== rows.length) problems.push(`round ${r}: duplicate member rows`);
  }

  // every acknowledged PATCH recorded its reconcile request, naming the users it touched
  const { rows: requests } = await harness.db.knex.raw(
    `select reason, idp_user_ids from reconcile_requests where reason = ?`, [`SCIM PATCH /Groups/${groupId}`]);
  const named = new Set<string>(requests.flatMap((r: { idp_user_ids: string[] | null }) => r.idp_user_ids ?? []));
  // (null names everyone: the transactional path asks for the whole account)
  const touched = requests.some((r: { idp_user_ids: string[] | null }) => r.idp_user_ids === null) ? new Set<string>()
    : new Set(acknowledged.flatMap((op) => op.effects.map(([id]) => id)));

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`SOAK group-writers: writers=${WRITERS} operations=${stats.operations} final_members=${final.size} expected=${expected.size} lost_updates=${lostUpdates} 5xx=${stats.fiveXX} deadlocks=${stats.deadlocks} seconds=${seconds}`);
  expect(problems.slice(0, 20)).toEqual([]);
  expect({ lostUpdates, ...stats }).toEqual({ lostUpdates: 0, operations: WRITERS * ROUNDS * OPS_PER_WRITER_PER_ROUND, fiveXX: 0, deadlocks: 0, errors: 0 });
  expect(final).toEqual(expected);
  expect(requests.length).toBe(acknowledged.length);
  expect(difference(touched, named)).toEqual([]);
}, FULL ? 1_800_000 : 120_000);
