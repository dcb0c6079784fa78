// The path past one PostgreSQL (docs/scaling.md) distributes every tenant table by account_id with
// Citus. This reads the migrated schema and holds the two lists that path depends on: the tables no
// account owns, and the tenant tables and keys that still lack account_id. A table created from now on
// must carry account_id in its primary key, unique keys and foreign keys, so the debt list only shrinks.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";
import { readSchemaCatalog } from "../support/schema-catalog.ts";
import { classifyTables } from "../support/tenant-classification.ts";
import { findKeyDebtDrift, type GlobalTable, type KeyDebt } from "../support/tenant-key-guard.ts";

/** Tables no account owns. Each becomes a Citus reference table or stays local to the coordinator. */
const GLOBAL_TABLES: Readonly<Record<string, GlobalTable>> = {
  accounts: { placement: "reference", reason: "the tenant itself; small, read by every shard's foreign keys, and its slug is unique across all accounts" },
  users: { placement: "reference", reason: "a person is one row however many accounts they belong to (memberships joins them); email is unique across all accounts" },
  admin_tokens: { placement: "coordinator", reason: "operators' credentials for the admin API, which spans accounts" },
  knex_migrations: { placement: "coordinator", reason: "knex's record of the migrations applied to the whole database" },
  knex_migrations_lock: { placement: "coordinator", reason: "knex's lock, so one process migrates at a time" },
  schedule_slots: { placement: "coordinator", reason: "which replica queued each schedule slot, for the whole fleet" },
  queue_workers: { placement: "coordinator", reason: "graphile-worker's live workers across replicas" },
  replica_shares: { placement: "coordinator", reason: "how many of a slot's full reconciles each replica ran, for the whole fleet" },
  limit_buckets: { placement: "coordinator", reason: "the fleet's rate-limit and failed-authentication buckets, keyed by token id or client address" },
};

// A token is presented without its account: these lookups by hash must find the account first.
const TOKEN_NOTE = "looked up by its hash before the account is known: route by a reference table of hash → account_id, then make the key (account_id, hash)";

/** Tenant tables and keys that lack account_id today. Remove an entry (or a key) once a migration fixes it. */
const TENANT_KEY_DEBT: Readonly<Record<string, KeyDebt>> = {
  alerts: { primaryKey: ["account_id", "id"], foreignKeys: ["alerts_run_id_fkey"] },
  api_key_domains: {
    accountIdFrom: "api_keys", primaryKey: ["account_id", "api_key_id", "domain_id"],
    foreignKeys: ["api_key_domains_api_key_id_fkey", "api_key_domains_domain_id_fkey"],
  },
  api_keys: {
    primaryKey: ["account_id", "id"], uniqueKeys: ["api_keys_secret_hash_key"], foreignKeys: ["api_keys_revoked_by_run_id_fkey"], note: TOKEN_NOTE,
  },
  audit_log: { primaryKey: ["account_id", "id"] },
  connection_sync_state: {
    accountIdFrom: "directory_connections", primaryKey: ["account_id", "connection_id"], foreignKeys: ["connection_sync_state_connection_id_fkey"],
  },
  directory_connections: { primaryKey: ["account_id", "id"] },
  domain_grants: {
    primaryKey: ["account_id", "id"], uniqueKeys: ["domain_grants_membership_domain_key"],
    foreignKeys: ["domain_grants_domain_id_fkey", "domain_grants_managed_by_connection_id_fkey", "domain_grants_managed_by_run_id_fkey", "domain_grants_membership_id_fkey"],
  },
  events: { primaryKey: ["account_id", "id"], foreignKeys: ["events_run_id_fkey"] },
  held_removals: { primaryKey: ["account_id", "run_id", "key"], foreignKeys: ["held_removals_run_id_fkey"] },
  idp_group_members: { accountIdFrom: "idp_groups", primaryKey: ["account_id", "group_id", "member_id"], foreignKeys: ["idp_group_members_group_id_fkey"] },
  idp_groups: {
    primaryKey: ["account_id", "id"], uniqueKeys: ["idp_groups_source_key", "idp_groups_unique_name"], foreignKeys: ["idp_groups_last_run_id_fkey"],
  },
  idp_users: {
    primaryKey: ["account_id", "id"], uniqueKeys: ["idp_users_source_key", "idp_users_user_name_key"], foreignKeys: ["idp_users_last_run_id_fkey"],
  },
  invitations: { primaryKey: ["account_id", "id"], uniqueKeys: ["invitations_token_hash_key"], note: TOKEN_NOTE },
  memberships: { primaryKey: ["account_id", "id"], foreignKeys: ["memberships_managed_by_connection_id_fkey", "memberships_managed_by_run_id_fkey"] },
  reconcile_requests: { primaryKey: ["account_id", "id"] },
  removal_rejections: { foreignKeys: ["removal_rejections_run_id_fkey"] },
  scim_tokens: {
    accountIdFrom: "directory_connections", primaryKey: ["account_id", "id"], uniqueKeys: ["scim_tokens_hash_key"],
    foreignKeys: ["scim_tokens_connection_id_fkey"], note: TOKEN_NOTE,
  },
  sending_domains: { primaryKey: ["account_id", "id"] },
  sessions: { primaryKey: ["account_id", "id"], uniqueKeys: ["sessions_token_hash_key"], note: TOKEN_NOTE },
  sync_runs: { primaryKey: ["account_id", "id"], foreignKeys: ["sync_runs_connection_id_fkey", "sync_runs_superseded_by_fkey"] },
  user_identities: { primaryKey: ["account_id", "idp_user_id"], foreignKeys: ["user_identities_idp_user_id_fkey", "user_identities_linked_by_run_id_fkey"] },
  webhook_deliveries: {
    accountIdFrom: "webhook_endpoints", primaryKey: ["account_id", "id"], uniqueKeys: ["webhook_deliveries_endpoint_id_event_id_key"],
    foreignKeys: ["webhook_deliveries_endpoint_id_fkey", "webhook_deliveries_event_id_fkey"],
  },
  webhook_endpoints: { primaryKey: ["account_id", "id"] },
};

const SCALING_DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/scaling.md");

/** Thrown to roll the probe tables back once they have been checked. */
class ProbeDone extends Error {}

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

test("every table of the migrated schema is a declared global table, or tenant data keyed as the debt list says", async () => {
  const classification = classifyTables(await readSchemaCatalog(db.knex));
  // the classification is computed, so check it found what is known to be there before trusting an empty result
  expect(classification.tenant.get("idp_group_members")?.because).toBe("references idp_groups");
  expect(classification.tenant.get("account_rules")?.primaryKeyHasAccountId).toBe(true);
  expect(findKeyDebtDrift(classification, GLOBAL_TABLES, TENANT_KEY_DEBT)).toEqual([]);
});

test("a new table holding tenant data without account_id in its primary key fails the guard, and so does one no list covers", async () => {
  // only what the probes add is counted, so a table merged before its list entry fails the first test alone
  const before = new Set(findKeyDebtDrift(classifyTables(await readSchemaCatalog(db.knex)), GLOBAL_TABLES, TENANT_KEY_DEBT));
  // created inside a transaction that is rolled back, so the schema other tests see is untouched
  await db.knex.transaction(async (trx) => {
    await trx.raw(`create table scaling_probe_notes (id uuid primary key, connection_id uuid not null references directory_connections)`);
    await trx.raw(`create table scaling_probe_notes_tags (note_id uuid references scaling_probe_notes, tag text, primary key (note_id, tag))`);
    await trx.raw(`create table scaling_probe_keyed (account_id uuid references accounts, id uuid, token text unique, primary key (account_id, id))`);
    await trx.raw(`create table scaling_probe_shared (name text primary key)`);
    const drift = findKeyDebtDrift(classifyTables(await readSchemaCatalog(trx)), GLOBAL_TABLES, TENANT_KEY_DEBT).filter((m) => !before.has(m));
    // tenant through a connection, and transitively through the first probe
    expect(drift.find((m) => m.startsWith("table scaling_probe_notes holds"))).toContain("primary key (account_id, id)");
    expect(drift.find((m) => m.startsWith("table scaling_probe_notes_tags holds"))).toContain("references scaling_probe_notes");
    // right primary key, but a unique key Citus could not enforce across shards
    expect(drift.find((m) => m.startsWith("table scaling_probe_keyed"))).toContain("scaling_probe_keyed_token_key");
    expect(drift.find((m) => m.startsWith("table scaling_probe_shared"))).toContain("GLOBAL_TABLES");
    expect(drift).toHaveLength(6); // notes: key + foreign key; tags: key + foreign key; keyed: unique key; shared: undeclared
    throw new ProbeDone();
  }).catch((error: unknown) => {
    if (!(error instanceof ProbeDone)) throw error;
  });
  const after = await db.knex.raw(`select count(*)::int as n from pg_class where relname like 'scaling_probe%'`);
  expect(after.rows[0].n).toBe(0);
});

test("the debt list is exact: a key that has been fixed must leave it, and a key still owed cannot", async () => {
  const classification = classifyTables(await readSchemaCatalog(db.knex));
  const before = new Set(findKeyDebtDrift(classification, GLOBAL_TABLES, TENANT_KEY_DEBT));
  const added = (debt: Record<string, KeyDebt>) => findKeyDebtDrift(classification, GLOBAL_TABLES, debt).filter((m) => !before.has(m));
  // account_rules is keyed (account_id) already: an entry claiming otherwise is stale and must go
  expect(added({ ...TENANT_KEY_DEBT, account_rules: { primaryKey: ["account_id", "account_id"] } })).toEqual([
    expect.stringContaining("TENANT_KEY_DEBT.account_rules (test/db/tenant-keys.test.ts): its primary key now has account_id"),
  ]);
  expect(added({ ...TENANT_KEY_DEBT, idp_users: { ...TENANT_KEY_DEBT.idp_users, uniqueKeys: ["idp_users_source_key"] } })).toEqual([
    expect.stringContaining("its unique key(s) idp_users_user_name_key lack account_id"),
  ]);
  // and an entry cannot be dropped while its table still owes the key
  const shrunk = Object.fromEntries(Object.entries(TENANT_KEY_DEBT).filter(([table]) => table !== "sending_domains"));
  expect(added(shrunk)).toEqual([
    expect.stringContaining("table sending_domains holds tenant data (it has account_id) but its primary key is (id)"),
  ]);
});

test("docs/scaling.md names every global table and every table and key on the debt list", () => {
  const doc = fs.readFileSync(SCALING_DOC, "utf8");
  const named = (word: string) => new RegExp(`\\b${word}\\b`).test(doc);
  const missing = [
    ...Object.keys(GLOBAL_TABLES),
    ...Object.entries(TENANT_KEY_DEBT).flatMap(([table, owed]) => [table, ...(owed.uniqueKeys ?? []), ...(owed.foreignKeys ?? [])]),
  ].filter((word) => !named(word));
  expect(missing, "add these to docs/scaling.md (its tables of global tables and of tenant keys)").toEqual([]);
});
