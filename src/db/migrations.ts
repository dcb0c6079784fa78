// One set of migrations for PostgreSQL and PGlite. Names are stored without their extension, so a
// database migrated from the .ts sources (tsx) keeps working when run from the compiled .js (container).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Knex } from "knex";

const here = path.dirname(fileURLToPath(import.meta.url));
// src/db → ../../migrations, and dist/src/db → dist/migrations alike
export const MIGRATIONS_DIR = path.resolve(here, "../../migrations");

const MIGRATION_FILE = /^\d+_[\w-]+\.(ts|js)$/;

class ExtensionlessMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return fs.readdirSync(this.dir).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith(".d.ts")).sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, "");
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(this.dir, file)).href);
  }
}

function migratorConfig(schemaName?: string): Knex.MigratorConfig {
  return { migrationSource: new ExtensionlessMigrationSource(MIGRATIONS_DIR), schemaName };
}

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrateToLatest(knex: Knex, schemaName?: string): Promise<string[]> {
  const [, names] = (await knex.migrate.latest(migratorConfig(schemaName))) as [number, string[]];
  return names;
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(knex: Knex, schemaName?: string): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(migratorConfig(schemaName))) as [unknown, Array<{ file: string } | string>];
  return pending.map((p) => (typeof p === "string" ? p : p.file));
}
