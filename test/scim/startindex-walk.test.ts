// Walking all users by startIndex, as Okta's and Entra's imports do (1, 101, 201, … count=100):
// every user exactly once and in order; while users are created and deleted between pages (RFC 7644
// §3.4.2.4 promises nothing across changes) still no duplicate and no user that lived through the
// walk left out; and page N of a sequential walk reads its page, not the N × count rows before it.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { statementsDuring } from "../support/statements-during.ts";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const USERS = 1_000;
const PAGE = 100;

let harness: ScimHarness;

beforeAll(async () => {
  harness = await startScimHarness();
});

afterAll(async () => {
  await harness?.close();
});

/** A tenant with `count` users, created in order user-1, user-2, … (one statement: SCIM would be slow here). */
async function tenantWithUsers(slug: string, count: number): Promise<ScimClient> {
  const client = await harness.tenant(slug);
  await harness.db.knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, resource, created_at)
     select s.id, c.id, c.account_id, s.id::text, 'user-' || n || '@walk.example', jsonb_build_object('userName', 'user-' || n || '@walk.example'),
            now() - interval '1 hour' + n * interval '1 microsecond'
     from directory_connections c, lateral (select gen_random_uuid() as id, n from generate_series(1, ?) n) s
     where c.id = ?`, [count, client.connectionId]);
  return client;
}

interface Page { totalResults: number; startIndex: number; itemsPerPage: number; Resources?: Array<{ id: string; userName: string }> }

async function page(client: ScimClient, startIndex: number): Promise<Page> {
  const response = await client.get(`/Users?startIndex=${startIndex}&count=${PAGE}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as Page;
}

/** Walks every page as an import does; `between` runs after each page. */
async function walk(client: ScimClient, between: (pageNumber: number) => Promise<void> = async () => undefined): Promise<string[]> {
  const seen: string[] = [];
  for (let startIndex = 1, n = 1; ; startIndex += PAGE, n++) {
    const answer = await page(client, startIndex);
    expect(answer.startIndex).toBe(startIndex);
    const resources = answer.Resources ?? [];
    seen.push(...resources.map((r) => r.userName));
    if (resources.length < PAGE || startIndex + PAGE > answer.totalResults) break;
    await between(n);
  }
  return seen;
}

const nameOf = (n: number) => `user-${n}@walk.example`;

test("a walk returns every user exactly once, in creation order, with the right totals", async () => {
  const client = await tenantWithUsers("walk-stable", USERS);
  const seen = await walk(client);
  expect(seen).toEqual(Array.from({ length: USERS }, (_, i) => nameOf(i + 1)));
  // and again: a second walk over the same, unchanged users answers the same
  expect(await walk(client)).toEqual(seen);
  const last = await page(client, USERS - 49);
  expect(last.totalResults).toBe(USERS);
  expect(last.Resources!.map((r) => r.userName)).toEqual(Array.from({ length: 50 }, (_, i) => nameOf(USERS - 49 + i)));
  expect((await page(client, USERS + 1)).Resources ?? []).toEqual([]);
});

test("a walk while users are created and deleted between pages: no duplicate, no surviving user left out", async () => {
  const client = await tenantWithUsers("walk-changing", USERS);
  const idOf = async (n: number) => (await client.get(`/Users?filter=${encodeURIComponent(`userName eq "${nameOf(n)}"`)}`)).body.Resources[0].id as string;
  const deletedBehind: string[] = [];
  const deletedAhead: string[] = [];
  const created: string[] = [];
  const seen = await walk(client, async (pageNumber) => {
    if (pageNumber > 5) return;
    // one user of a page already read, one of a page still to come, and a new one
    const behind = pageNumber * PAGE - 10;
    const ahead = pageNumber * PAGE + 250;
    for (const [n, list] of [[behind, deletedBehind], [ahead, deletedAhead]] as const) {
      expect((await client.delete(`/Users/${await idOf(n)}`)).status).toBe(204);
      list.push(nameOf(n));
    }
    const name = `new-${pageNumber}@walk.example`;
    expect((await client.post("/Users", { schemas: [CORE], userName: name })).status).toBe(201);
    created.push(name);
  });
  expect(new Set(seen).size, "a user returned twice").toBe(seen.length);
  const survivors = Array.from({ length: USERS }, (_, i) => nameOf(i + 1)).filter((n) => !deletedBehind.includes(n) && !deletedAhead.includes(n));
  for (const name of survivors) expect(seen, `${name} lived through the walk but was not returned`).toContain(name);
  for (const name of deletedAhead) expect(seen).not.toContain(name);
  // survivors in creation order; users created during the walk come after them
  expect(seen.filter((n) => survivors.includes(n))).toEqual(survivors);
  expect(seen.slice(seen.length - created.length)).toEqual(created);
});

interface PlanNode { "Node Type": string; "Relation Name"?: string; "Index Name"?: string; "Actual Rows"?: number; "Parent Relationship"?: string; Plans?: PlanNode[] }

/** The page's own scans (not the total's subquery), with the rows each read. */
function pageScans(plan: PlanNode, inSubquery = false): PlanNode[] {
  const here = inSubquery || plan["Parent Relationship"] === "InitPlan" || plan["Parent Relationship"] === "SubPlan";
  const own = !here && plan["Node Type"].endsWith("Scan") ? [plan] : [];
  return [...own, ...(plan.Plans ?? []).flatMap((p) => pageScans(p, here))];
}

test("the next page of a sequential walk is read by keyset: it reads one page of rows, not the rows before it", async () => {
  const client = await tenantWithUsers("walk-keyset", USERS);
  for (let startIndex = 1; startIndex <= 801; startIndex += PAGE) await page(client, startIndex);
  let answer!: Awaited<ReturnType<typeof page>>;
  const statements = (await statementsDuring(harness.db.knex, async () => (answer = await page(client, 901)))).filter((st) => /from idp_users u/.test(st.sql));
  expect(answer.Resources!.map((r) => r.userName)).toEqual(Array.from({ length: PAGE }, (_, i) => nameOf(901 + i)));
  expect(statements).toHaveLength(1);
  const { sql, bindings } = statements[0]!;
  // EXPLAIN ANALYZE runs the (read-only) page statement and says how many rows each scan produced
  const result = await harness.db.knex.raw(`explain (analyze, format json) ${sql.replace(/\$(\d+)/g, "?")}`, bindings as never[]);
  const scans = pageScans((result.rows[0]["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]!.Plan);
  expect(scans.map((s) => `${s["Node Type"]} ${s["Index Name"] ?? ""}`.trim())).toEqual(["Index Scan idp_users_page"]);
  expect(scans[0]!["Actual Rows"]).toBeLessThanOrEqual(PAGE);
});
