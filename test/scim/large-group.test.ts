// Membership changes on a large group cost what the change names, not what the group holds: the
// same handful of statements for a 5,000-member group as for an empty one, and members are never
// loaded unless asked for.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { statementsDuring } from "../support/statements-during.ts";

let harness: ScimHarness;
let client: ScimClient;
let userIds: string[];
let groupId: string;
const MEMBERS = 5000;
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** SQL statements the server ran while `work` was in flight. */
const sqlDuring = async (work: () => Promise<unknown>): Promise<string[]> => (await statementsDuring(harness.db.knex, work)).map((st) => st.sql);

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("big-group");
  // seed users straight into the snapshot (fast), then add them to the group through SCIM
  const { rows: [connection] } = await harness.db.knex.raw(`select id, account_id from directory_connections where id = ?`, [client.connectionId]);
  const inserted = await harness.db.knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, active, resource)
     select g.id, ?, ?, g.id::text, 'member' || n || '@big.example', true, jsonb_build_object('userName', 'member' || n || '@big.example')
     from (select gen_random_uuid() as id, n from generate_series(1, ?) n) g returning id`,
    [connection.id, connection.account_id, MEMBERS + 10]);
  userIds = inserted.rows.map((r: { id: string }) => r.id);
  groupId = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Everyone" })).body.id;
  for (let i = 0; i < MEMBERS; i += 1000) {
    const batch = userIds.slice(i, i + 1000).map((value) => ({ value }));
    expect((await client.patch(`/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: batch }] })).status).toBe(204);
  }
}, 120_000);
afterAll(() => harness.close());

test("adding one member to a 5,000-member group runs a fixed few statements and never reads the member list", async () => {
  const newcomer = userIds[MEMBERS]!;
  const statements = await sqlDuring(() =>
    client.patch(`/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: newcomer }] }] }));
  expect(statements.filter((s) => /from idp_group_members where group_id = any/i.test(s))).toEqual([]);
  expect(statements.length).toBeLessThanOrEqual(8);
  const { rows: [{ count }] } = await harness.db.knex.raw(`select count(*)::int from idp_group_members where group_id = ?`, [groupId]);
  expect(count).toBe(MEMBERS + 1);
});

test("re-adding present members and removing by filter keep the member list exact", async () => {
  const present = userIds.slice(0, 3).map((value) => ({ value }));
  expect((await client.patch(`/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: present }] })).status).toBe(204);
  expect((await client.patch(`/Groups/${groupId}`, { schemas: [PATCH], Operations: [
    { op: "remove", path: `members[value eq "${userIds[0]}"]` },
    { op: "remove", path: "members", value: [{ value: userIds[1] }] },
  ] })).status).toBe(204);
  const { rows } = await harness.db.knex.raw(`select member_id from idp_group_members where group_id = ? and member_id = any(?::uuid[])`, [groupId, userIds.slice(0, 3)]);
  expect(rows.map((r: { member_id: string }) => r.member_id)).toEqual([userIds[2]]);
  const { rows: [{ count }] } = await harness.db.knex.raw(`select count(*)::int, count(distinct member_id)::int as distinct from idp_group_members where group_id = ?`, [groupId]);
  expect(count).toBe(MEMBERS - 1);
});

test("excludedAttributes=members answers without touching the member table", async () => {
  let response: Awaited<ReturnType<ScimClient["get"]>> | undefined;
  const statements = await sqlDuring(async () => {
    response = await client.get(`/Groups/${groupId}?excludedAttributes=members`);
  });
  expect(response!.status).toBe(200);
  expect(response!.body).not.toHaveProperty("members");
  expect(statements.some((s) => /idp_group_members/.test(s))).toBe(false);
  const listed = await client.get(`/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "everyone"')}`);
  expect(listed.body.totalResults).toBe(1);
  expect(listed.body.Resources[0]).not.toHaveProperty("members");
});

test("a full GET returns every member once", async () => {
  const response = await client.get(`/Groups/${groupId}`);
  expect(response.status).toBe(200);
  const values = response.body.members.map((m: { value: string }) => m.value);
  expect(values.length).toBe(new Set(values).size);
  expect(values.length).toBe(MEMBERS - 1);
  expect(response.body.members[0]).toMatchObject({ type: "User", $ref: expect.stringContaining("/Users/") });
});

test("parallel writers adding and removing members of one group lose no update", async () => {
  const pool = userIds.slice(MEMBERS - 200, MEMBERS + 10);
  const results = await Promise.all(pool.map((value, i) =>
    client.patch(`/Groups/${groupId}`, { schemas: [PATCH], Operations: [i % 2 === 0 ? { op: "remove", path: `members[value eq "${value}"]` } : { op: "add", path: "members", value: [{ value }] }] })));
  expect(results.map((r) => r.status).filter((s) => s !== 204)).toEqual([]);
  const { rows } = await harness.db.knex.raw(`select member_id from idp_group_members where group_id = ? and member_id = any(?::uuid[])`, [groupId, pool]);
  const members = new Set(rows.map((r: { member_id: string }) => r.member_id));
  pool.forEach((value, i) => expect(members.has(value)).toBe(i % 2 === 1));
});
