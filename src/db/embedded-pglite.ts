// The embedded default database: PGlite (PostgreSQL in wasm) in-process, reached through knex's
// ordinary pg client over PGlite's node-postgres adapter, so every query is the same SQL as production.
import type { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import knexFactory, { type Knex } from "knex";

/**
 * PGlite resolves queries through microtasks only, so a chain of awaited queries starves timers and
 * sockets (HTTP stalls for the whole chain). Yielding to the event loop before each statement keeps
 * the SCIM endpoint responsive during long reconciles, at about half the sequential throughput.
 */
function yieldBetweenStatements(pg: PGlite): PGlite {
  const target = pg as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ["query", "exec", "execProtocol", "execProtocolStream"]) {
    const original = target[method]!.bind(pg);
    target[method] = async (...args: unknown[]) => {
      await new Promise((resolve) => setImmediate(resolve));
      return original(...args);
    };
  }
  return pg;
}

/**
 * The embedded database's one session failed (an unexpected protocol message, its backend exiting).
 * Every pg client knex opens shares PGlite's single adapter, so a reconnect would read the answers
 * still queued for the failed session: each query got the previous one's rows (seen after a filter made
 * the backend exit). The session is therefore never reopened; the process must restart, and the data
 * on disk is intact up to the last commit.
 */
export class EmbeddedDatabaseLostError extends Error {
  constructor(readonly reason: unknown) {
    super(`the embedded database's session failed (${reason instanceof Error ? reason.message : String(reason)}); restart idsync`);
    this.name = "EmbeddedDatabaseLostError";
  }
}

export interface EmbeddedDatabase {
  knex: Knex;
  /** A tarball of the whole database, for test files to start from a migrated copy quickly. */
  dump(): Promise<Blob>;
  /** NOTIFY inside the one process: PGlite delivers a committed transaction's notifications itself. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface PgliteOptions {
  dataDir?: string;
  loadDataDir?: Blob;
  /** Called once when the session fails; later queries reject with EmbeddedDatabaseLostError. */
  onLost?: (error: EmbeddedDatabaseLostError) => void;
}

/** Opens PGlite (a data directory, or in memory when `dataDir` is undefined, optionally from a dump). */
export async function openPglite(options: PgliteOptions): Promise<EmbeddedDatabase> {
  if (options.dataDir) fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const pg = yieldBetweenStatements(
    new PGlite({ dataDir: options.dataDir, loadDataDir: options.loadDataDir }),
  );
  await pg.waitReady;
  let lost: EmbeddedDatabaseLostError | undefined;
  const knex = knexFactory({
    client: "pg",
    connection: () => createPgConfig(pg) as unknown as Knex.PgConnectionConfig,
    // one connection: PGlite is single-session; initdb counts against the first acquire, so keep 60 s
    pool: {
      min: 1,
      max: 1,
      afterCreate(connection: EventEmitter, done: (error: Error | null, connection: EventEmitter) => void) {
        if (lost) return done(lost, connection);
        // the driver reports a broken session with an "error" event; knex would then open another
        connection.on("error", (error: unknown) => {
          if (lost) return;
          lost = new EmbeddedDatabaseLostError(error);
          options.onLost?.(lost);
        });
        done(null, connection);
      },
    },
    acquireConnectionTimeout: 60_000,
  });
  return {
    knex,
    dump: () => pg.dumpDataDir("none") as Promise<Blob>,
    // LISTEN goes through knex's one connection like every other statement: PGlite's own listen()
    // would run beside a statement the driver has in flight and break the session ("portal does not exist")
    async listen(channel, onMessage) {
      const off = pg.onNotification((from, payload) => {
        if (from === channel) onMessage(payload);
      });
      const quoted = `"${channel.replaceAll('"', '""')}"`;
      await knex.raw(`listen ${quoted}`);
      return async () => {
        off();
        await knex.raw(`unlisten ${quoted}`).catch(() => undefined);
      };
    },
    async close() {
      await knex.destroy();
      await pg.close();
    },
  };
}

