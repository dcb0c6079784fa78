// The database factory: DATABASE_URL → PostgreSQL through a pg pool; otherwise the embedded PGlite
// in the data directory, with its guards (one process per directory, yielding, orderly close).
import path from "node:path";
import knexFactory, { type Knex } from "knex";
import { lockDataDir } from "./data-dir-lock.ts";
import { openPglite, type EmbeddedDatabaseLostError } from "./embedded-pglite.ts";
import { listenOnPostgres } from "./postgres-listener.ts";

export type DatabaseKind = "postgres" | "pglite";

/** An open database. `close()` must be awaited before exit: an unclosed PGlite keeps the process alive. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly knex: Knex;
  /** Where the data lives, for messages (no credentials). */
  readonly description: string;
  /** PostgreSQL's URL (for the job queue's own pool); undefined for the embedded database. */
  readonly url?: string;
  /** Calls `onMessage` with each NOTIFY payload on `channel` (after the notifying transaction commits). */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function postgresKnex(url: string, searchPath?: string): Knex {
  return knexFactory({
    client: "pg",
    connection: url,
    searchPath: searchPath ? [searchPath] : undefined,
    pool: { min: 0, max: 10 },
    log: {
      // a query that cannot get a connection rejects with that error and its caller reports it (one
      // line at start-up, the request's or run's log later): knex's own copy, with a stack, is noise
      warn: (message: unknown) => {
        if (!String(message).startsWith("Acquire connection error")) process.stderr.write(`knex: ${String(message)}\n`);
      },
    },
  });
}

/** Where a PostgreSQL URL points, for messages: never its credentials. */
export function describePostgres(url: string): string {
  const parsed = new URL(url);
  return `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir: string;
  /** The embedded database's session failed for good (a pg pool reconnects by itself; PGlite cannot). */
  onEmbeddedLost?: (error: EmbeddedDatabaseLostError) => void;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) {
    const knex = postgresKnex(options.databaseUrl);
    const url = options.databaseUrl;
    return { kind: "postgres", knex, url, description: describePostgres(url), listen: (channel, onMessage) => listenOnPostgres(url, channel, onMessage), close: () => knex.destroy() };
  }
  const dataDir = path.join(options.dataDir, "pglite");
  const unlock = lockDataDir(dataDir);
  try {
    const embedded = await openPglite({ dataDir, onLost: options.onEmbeddedLost });
    return {
      kind: "pglite",
      knex: embedded.knex,
      description: `embedded PGlite in ${dataDir}`,
      listen: embedded.listen,
      async close() {
        try {
          await embedded.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
