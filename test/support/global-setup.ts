// Runs once before all test files. On PGlite: migrate one in-memory database and dump it, so each
// file loads a migrated copy in under a second instead of running initdb (~5 s, ~750 MiB) itself.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openPglite } from "../../src/db/embedded-pglite.ts";
import { migrateToLatest } from "../../src/db/migrations.ts";

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const db = await openPglite({});
  await migrateToLatest(db.knex);
  const dump = await db.dump();
  await db.close();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "idsync-test-")), "migrated.tar");
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide("pgliteDump", file);
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteDump: string;
  }
}
