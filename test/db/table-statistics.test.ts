// idsync's own ANALYZE of the tables it grows in bulk (src/db/table-statistics.ts): after a bulk change the
// tables get statistics — on PGlite nothing else would ever give them any — and a check with
// nothing changed analyzes nothing. A bulk apply brings them up to date itself, before it returns.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { analyzeAfterBulkWrite, analyzeChangedTables, BULK_WRITE_ROWS, needsAnalyze } from "../../src/db/table-statistics.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";

let harness: ScimHarness;

beforeAll(async () => {
  harness = await startScimHarness();
});

afterAll(async () => {
  await harness?.close();
});

const rowsEstimate = async (table: string): Promise<number> =>
  Number((await harness.db.knex.raw(`select reltuples::float8 as n from pg_class where oid = to_regclass(?)`, [table])).rows[0].n);

test("autovacuum's rule: more than 50 rows + 10 % changed since the last ANALYZE", () => {
  expect(needsAnalyze(50, 0)).toBe(false);
  expect(needsAnalyze(51, 0)).toBe(true);
  expect(needsAnalyze(1_050, 10_000)).toBe(false);
  expect(needsAnalyze(1_051, 10_000)).toBe(true);
  // a never-analyzed table reports reltuples -1
  expect(needsAnalyze(51, -1)).toBe(true);
});

/** Runs the checks until `table`'s estimate reaches `rows` (bounded); returns every table they analyzed. */
async function analyzeUntil(table: string, rows: number): Promise<string[]> {
  // the counters reach pg_stat_user_tables when the writing session goes idle (PostgreSQL: within
  // ~10 s): wait for them, bounded; on PostgreSQL autovacuum may analyze first, which is as good
  let analyzed: string[] = [];
  for (let attempt = 0; attempt < 120 && (await rowsEstimate(table)) < rows; attempt++) {
    analyzed = analyzed.concat(await analyzeChangedTables(harness.db.knex));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return analyzed;
}

test("a bulk push of users is analyzed; then, unchanged, nothing is", async () => {
  const client = await harness.tenant("statistics");
  await harness.db.knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, resource)
     select s.id, c.id, c.account_id, s.id::text, 'user-' || n || '@stats.example', '{}'::jsonb
     from directory_connections c, lateral (select gen_random_uuid() as id, n from generate_series(1, 2000) n) s where c.id = ?`, [client.connectionId]);
  expect(await rowsEstimate("idp_users")).toBeLessThanOrEqual(0);
  const analyzed = await analyzeUntil("idp_users", 2000);
  expect(await rowsEstimate("idp_users")).toBe(2000);
  if (harness.db.kind === "pglite") expect(analyzed.some((t) => /(^|\.)idp_users$/.test(t))).toBe(true);
  expect(await analyzeChangedTables(harness.db.knex)).toEqual([]);
});

test("a first apply's bulk of users and memberships is analyzed: the scoped reconcile's lookups are planned on it", async () => {
  await harness.tenant("statistics-apply");
  // as a first apply writes them: thousands of app users and their memberships at once
  await harness.db.knex.raw(
    `with u as (insert into users (email) select 'member-' || n || '@apply.example' from generate_series(1, 3000) n returning id)
     insert into memberships (account_id, user_id, role) select a.id, u.id, 'member' from accounts a, u where a.slug = 'statistics-apply'`);
  const analyzed = await analyzeUntil("memberships", 3000);
  expect(await rowsEstimate("memberships")).toBeGreaterThanOrEqual(3000);
  expect(await rowsEstimate("users")).toBeGreaterThanOrEqual(3000);
  if (harness.db.kind === "pglite") expect(analyzed.some((t) => /(^|\.)memberships$/.test(t))).toBe(true);
  expect(await analyzeChangedTables(harness.db.knex)).toEqual([]);
});

test("a first apply analyzes the tables it filled before it returns: the next run plans on their real size", async () => {
  const client = await harness.tenant("statistics-first-apply");
  const { knex } = harness.db;
  const [{ account_id: accountId }] = (await knex.raw(`select account_id from directory_connections where id = ?`, [client.connectionId])).rows;
  await saveRules(knex, accountId, "version: 1\ndefault: member\nrules: []\n", "test");
  const people = 1_500;
  await knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, email, active, resource)
     select s.id, c.id, c.account_id, s.id::text, s.mail, s.mail, true, '{}'::jsonb
     from directory_connections c, lateral (select gen_random_uuid() as id, 'first-' || n || '@apply.example' as mail from generate_series(1, ?) n) s
     where c.id = ?`, [people, client.connectionId]);
  const before = await rowsEstimate("user_identities");
  const run = await reconcileAccount(knex, accountId, { trigger: "test" });
  expect(run.status).toBe("succeeded");
  expect(run.appliedByType).toMatchObject({ create_user: people, add_member: people });
  // no periodic check runs in this harness: only the apply itself can have analyzed them
  expect(await rowsEstimate("user_identities")).toBeGreaterThanOrEqual(before + people);
  expect(await rowsEstimate("memberships")).toBeGreaterThanOrEqual(people);
});

test("below BULK_WRITE_ROWS a writer leaves the tables to the periodic check; from there its own count decides", async () => {
  // invitations is nearly empty here: 999 rows changed would call for an ANALYZE, were the table looked at
  expect(await analyzeAfterBulkWrite(harness.db.knex, { invitations: BULK_WRITE_ROWS - 1 })).toEqual([]);
  // the writer's own rows count where the server's counters have not caught up with them (none were written here)
  const counted = await analyzeAfterBulkWrite(harness.db.knex, { invitations: BULK_WRITE_ROWS });
  expect(counted.some((t) => /(^|\.)invitations$/.test(t))).toBe(true);
});
