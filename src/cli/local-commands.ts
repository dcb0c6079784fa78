// `serve` and `migrate`: the two commands that open the database themselves. main.ts imports this file
// only for them (import()), so a client command never loads the server stack (express, knex, PGlite…).
import { loadSettings, type Settings } from "../config/settings.ts";
import { createLogger, serverLogDestination } from "../log/logger.ts";
import { openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrations.ts";
import { startServer, type RunningServer } from "../http/server.ts";
import { explainStartupFailure } from "./startup-failures.ts";

export async function serve(scheduler: boolean): Promise<void> {
  const settings = loadSettings();
  const log = createLogger(settings.logLevel, serverLogDestination());
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    (server?.close() ?? Promise.resolve()).then(() => process.exit(exitCode), (error) => {
      log.error({ err: error }, "shutdown failed");
      process.exit(1);
    });
  };
  try {
    // 70 (EX_SOFTWARE): a failure the supervisor answers with a restart
    server = await startServer(settings, log, { scheduler, onDatabaseLost: () => stop("embedded database lost", 70) });
  } catch (error) {
    throw explainStartupFailure(error, settings) ?? error;
  }
  process.once("SIGTERM", () => stop("SIGTERM", 0));
  process.once("SIGINT", () => stop("SIGINT", 0));
}

export async function migrate(): Promise<void> {
  const settings: Settings = loadSettings();
  try {
    const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
    try {
      const ran = await migrateToLatest(database.knex);
      process.stdout.write(ran.length ? `applied ${ran.join(", ")} to ${database.description}\n` : `${database.description} is up to date\n`);
    } finally {
      await database.close();
    }
  } catch (error) {
    throw explainStartupFailure(error, settings) ?? error;
  }
}
