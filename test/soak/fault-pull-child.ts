// A process that runs one Google pull against the test's fake and is SIGKILLed by the test mid-pull.
// argv: <connectionId>; env: DATABASE_URL (+ FAULT_SCHEMA) or IDSYNC_DATA_DIR.
import { openDatabase, postgresKnex } from "../../src/db/database.ts";
import { runPull } from "../../src/scheduler/pull-run.ts";
import { testDeps } from "../sources/google/google-test-kit.ts";

const connectionId = process.argv[2]!;
const url = process.env.DATABASE_URL;
const db = url ? { knex: postgresKnex(url, process.env.FAULT_SCHEMA), close: async () => undefined }
  : await openDatabase({ dataDir: process.env.IDSYNC_DATA_DIR! });
process.stdout.write("pulling\n");
const result = await runPull(db.knex, connectionId, { mode: "full", trigger: "fault-child" }, { google: testDeps() });
process.stdout.write(`${JSON.stringify({ status: result.status })}\n`);
await db.knex.destroy?.();
await db.close();
