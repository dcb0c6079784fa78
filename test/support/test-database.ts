// The database a test file runs on: PostgreSQL when DATABASE_URL is set (a schema of its own,
// dropped afterwards), else PGlite loaded from the migrated dump. The same tests run on both.
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { inject } from "vitest";
import { postgresKnex, type Database } from "../../src/db/database.ts";
import { listenOnPostgres } from "../../src/db/postgres-listener.ts";
import { openPglite } from "../../src/db/embedded-pglite.ts";
import { migrateToLatest } from "../../src/db/migrations.ts";

/** A database as `idsync serve` opens it (so the job queue runs on it too), and a test's own helpers. */
export interface TestDatabase extends Database {
  readonly kind: "postgres" | "pglite";
  readonly knex: Knex;
  /** graphile-worker's schema for this test file's jobs (PostgreSQL: each test file has its own). */
  readonly queueSchema?: string;
  /**
   * Another connection pool on the same database, as another replica of `idsync serve` would hold
   * (PostgreSQL); the embedded PGlite has one session, so there it is the same pool. Closed with the database.
   */
  anotherPool(): Knex;
  /** Empties every table (run between tests that need a clean slate). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = "accounts, users, admin_tokens, audit_log";

export async function openTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `test_${randomBytes(6).toString("hex")}`;
    const admin = postgresKnex(url);
    await admin.raw(`create schema ${schema}`);
    // the schema's name is also its sessions' application_name, so a test can tell its own sessions from
    // those of the test files running beside it on the same database
    const sessionUrl = `${url}${url.includes("?") ? "&" : "?"}application_name=${schema}`;
    const knex = postgresKnex(sessionUrl, schema);
    await migrateToLatest(knex, schema);
    const pools: Knex[] = [];
    return {
      kind: "postgres",
      knex,
      url,
      description: `PostgreSQL schema ${schema}`,
      queueSchema: `${schema}_jobs`,
      listen: (channel, onMessage) => listenOnPostgres(url, channel, onMessage),
      anotherPool: () => {
        const pool = postgresKnex(sessionUrl, schema);
        pools.push(pool);
        return pool;
      },
      reset: async () => void (await knex.raw(`truncate ${TABLES} cascade`)),
      async close() {
        await Promise.all(pools.map((pool) => pool.destroy()));
        await knex.destroy();
        await admin.raw(`drop schema ${schema} cascade`);
        await admin.raw(`drop schema if exists ${schema}_jobs cascade`);
        await admin.destroy();
      },
    };
  }
  const dump = fs.readFileSync(inject("pgliteDump"));
  const db = await openPglite({ loadDataDir: new Blob([dump]) });
  return {
    kind: "pglite",
    knex: db.knex,
    description: "embedded PGlite in memory",
    listen: db.listen,
    anotherPool: () => db.knex,
    reset: async () => void (await db.knex.raw(`truncate ${TABLES} cascade`)),
    close: () => db.close(),
  };
}
