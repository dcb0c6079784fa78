// Plans that cannot go wrong: right after a bulk push (or for ever on PGlite, which has no
// autovacuum) the tables have no statistics, and the SCIM lookups Okta and Entra make before every
// create must still use their equality index, not walk the connection's paging index. The SQL is
// what the SCIM code really sends (captured from knex's query event), explained on a table of
// 10,000 users that was never analyzed.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { statementsDuring, type Statement } from "../support/statements-during.ts";

const USERS = 10_000;
const GROUPS = 2_000;

let harness: ScimHarness;
let client: ScimClient;
let probeUserId = "";
let probeGroupId = "";

interface PlanNode { "Node Type": string; "Index Name"?: string; "Relation Name"?: string; Plans?: PlanNode[] }

/** Every node of a plan tree. */
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * A membership change is one call of the database function change_group_members, whose statements
 * the database plans itself: those statements, read from the function as stored, with the call's
 * bindings in place of the function's parameters (the lock's PERFORM as the SELECT it is).
 */
async function functionStatements(call: Statement): Promise<Statement[]> {
  if (!/\bchange_group_members\(/.test(call.sql)) return [call];
  const { rows: [fn] } = await harness.db.knex.raw(`select prosrc from pg_proc where proname = 'change_group_members'`);
  // the function's parameters in the call's order, with their types
  const parameters = ["p_group_id::uuid", "p_connection_id::text", "p_members::jsonb", "p_remove::uuid[]", "p_reason::text"];
  const bound = (sql: string) => {
    const bindings: unknown[] = [];
    const text = sql.replace(/\bp_[a-z_]+\b/g, (name) => {
      const position = parameters.findIndex((p) => p.startsWith(`${name}::`));
      bindings.push(call.bindings[position]);
      return `?::${parameters[position]!.split("::")[1]}`;
    });
    return { sql: text.replace(/\?/g, (_, offset: number) => `$${text.slice(0, offset).split("?").length}`), bindings };
  };
  const source = String(fn.prosrc);
  const lock = /perform (1 from idp_groups [^;]*);/.exec(source)![1]!;
  const change = /(with grp as [\s\S]*?)\s+into group_found, unknown_members;/.exec(source)![1]!;
  return [bound(`select ${lock}`), bound(change)];
}

/** The statements a SCIM request sends that name `table` (reads and writes), with their bindings. */
async function statementsOf(path: string, table: string, method = "GET", body?: unknown): Promise<Statement[]> {
  const ran = await statementsDuring(harness.db.knex, async () => {
    const response = await client.request(method, path, body);
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  });
  const names = (sql: string) => new RegExp(`\\b${table}\\b`).test(sql);
  const seen: Statement[] = ran.filter((st) => names(st.sql) && /^\s*(with|select|update|delete|insert)/i.test(st.sql));
  for (const call of ran.filter((st) => /\bchange_group_members\(/.test(st.sql))) seen.push(...(await functionStatements(call)).filter((st) => names(st.sql)));
  expect(seen.length, `no statement on ${table} for ${path}`).toBeGreaterThan(0);
  return seen;
}

/** The scans of `table` in the plan PostgreSQL chooses for the statement, as "<node type> <index>". */
async function scansOf(statement: Statement, table: string): Promise<string[]> {
  // knex reports pg statements with $n placeholders; explain them as sent (EXPLAIN without ANALYZE runs nothing)
  const text = statement.sql.replace(/\$(\d+)/g, "?");
  const result = await harness.db.knex.raw(`explain (format json) ${text}`, statement.bindings as never[]);
  const plan = (result.rows[0]["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]!.Plan;
  // a Bitmap Heap Scan names the table, its Bitmap Index Scan children the indexes
  const indexes = (n: PlanNode) => n["Node Type"] === "Bitmap Heap Scan" ? nodes(n).flatMap((c) => c["Index Name"] ?? []).join("+") : n["Index Name"] ?? "";
  return nodes(plan).filter((n) => n["Relation Name"] === table && n["Node Type"].endsWith("Scan")).map((n) => `${n["Node Type"]} ${indexes(n)}`.trim());
}

async function expectIndex(path: string, table: string, index: string, method = "GET", body?: unknown): Promise<void> {
  const statements = await statementsOf(path, table, method, body);
  for (const statement of statements) {
    const scans = await scansOf(statement, table);
    expect(scans.length, statement.sql).toBeGreaterThan(0);
    for (const scan of scans) expect(scan, `${path}: ${statement.sql}`).toMatch(new RegExp(`^(Index Scan|Index Only Scan|Bitmap Heap Scan) ${index}$`));
  }
}

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("plans");
  // a bulk push as SQL: SCIM would take minutes for 10,000 users and leave the same never-analyzed table
  await harness.db.knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, external_id, user_name, display_name, email, active, resource, created_at)
     select s.id, c.id, c.account_id, s.id::text, 'ext-' || n, 'user-' || n || '@plans.example', 'User ' || n, 'user-' || n || '@plans.example', true,
            jsonb_build_object('userName', 'user-' || n || '@plans.example', 'externalId', 'ext-' || n), now() + n * interval '1 microsecond'
     from directory_connections c, lateral (select gen_random_uuid() as id, n from generate_series(1, ?) n) s
     where c.id = ?`, [USERS, client.connectionId]);
  await harness.db.knex.raw(
    `insert into idp_groups (id, connection_id, account_id, source_id, display_name, unique_name, external_id, resource, created_at)
     select s.id, c.id, c.account_id, s.id::text, 'Group ' || n, lower('Group ' || n), 'gext-' || n, jsonb_build_object('displayName', 'Group ' || n),
            now() + n * interval '1 microsecond'
     from directory_connections c, lateral (select gen_random_uuid() as id, n from generate_series(1, ?) n) s
     where c.id = ?`, [GROUPS, client.connectionId]);
  probeUserId = (await harness.db.knex.raw(`select id from idp_users where user_name = 'user-4321@plans.example'`)).rows[0].id;
  probeGroupId = (await harness.db.knex.raw(`select id from idp_groups where display_name = 'Group 1234'`)).rows[0].id;
  const analyzed = await harness.db.knex.raw(
    `select count(*)::int as n from pg_class where relname in ('idp_users', 'idp_groups') and relnamespace = current_schema()::regnamespace and reltuples > 0`);
  expect(analyzed.rows[0].n, "the tables must have no statistics for this test to mean anything").toBe(0);
});

afterAll(async () => {
  await harness?.close();
});

const filter = (f: string) => `?filter=${encodeURIComponent(f)}`;

test("userName eq uses the unique (lower(user_name), connection_id) index", async () => {
  await expectIndex(`/Users${filter('userName eq "USER-4321@plans.example"')}`, "idp_users", "idp_users_user_name_key");
});

test("externalId eq uses the externalId index", async () => {
  await expectIndex(`/Users${filter('externalId eq "ext-4321"')}`, "idp_users", "idp_users_external_id");
});

test("id eq and GET /Users/{id} use the primary key", async () => {
  await expectIndex(`/Users${filter(`id eq "${probeUserId}"`)}`, "idp_users", "idp_users_pkey");
  await expectIndex(`/Users/${probeUserId}`, "idp_users", "idp_users_pkey");
});

test("group displayName eq uses a displayName index", async () => {
  await expectIndex(`/Groups${filter('displayName eq "group 1234"')}&excludedAttributes=members`, "idp_groups", "idp_groups_(display_name|unique_name)");
  await expectIndex(`/Groups/${probeGroupId}`, "idp_groups", "idp_groups_pkey");
});

test("adding a member to a group (PATCH) finds the group and the member by primary key", async () => {
  const patch = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: probeUserId }] }] };
  await expectIndex(`/Groups/${probeGroupId}`, "idp_users", "idp_users_pkey", "PATCH", patch);
  await expectIndex(`/Groups/${probeGroupId}`, "idp_groups", "idp_groups_pkey", "PATCH", patch);
});

test("the lookups find what they look for", async () => {
  const byName = await client.get(`/Users${filter('userName eq "USER-4321@plans.example"')}`);
  expect(byName.body.totalResults).toBe(1);
  expect(byName.body.Resources[0].id).toBe(probeUserId);
  const byGroup = await client.get(`/Groups${filter('displayName eq "group 1234"')}`);
  expect(byGroup.body.Resources.map((g: { id: string }) => g.id)).toEqual([probeGroupId]);
});
