// Parameterized SQL through knex with honest result types. Values only ever travel as bindings.
import type { EventEmitter } from "node:events";
import type { Knex } from "knex";

export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** The pg connection knex pools, as far as a statement needs it. */
interface PgConnection {
  query(config: { text: string; values: readonly unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** knex's client, as far as borrowing one of its pooled connections goes. */
interface PooledClient {
  config: { client?: unknown };
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/** knex's `?` placeholders as PostgreSQL's `$1…$n`: every `?` in idsync's SQL is a binding (knex binds each one too). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

const numberedCache = new Map<string, string>();
const MAX_CACHED = 2_000;

/**
 * A statement outside a transaction, on PostgreSQL, goes straight to one of knex's pooled connections: knex's
 * raw-query machinery (building, placeholder rewriting, its events) was ~8 % of a SCIM lookup's CPU, measured
 * with the bench's profiler, for the two statements a request makes. Same pool, same connections (search_path
 * and all; the embedded database's one connection too), same values: pg serialises the bindings as knex would
 * have handed them over. A transaction's statements go through knex, which holds its connection.
 */
function directClient(db: Knex | Knex.Transaction): PooledClient | undefined {
  if ((db as Knex.Transaction).isTransaction) return undefined;
  const client = (db as unknown as { client: PooledClient }).client;
  return client.config.client === "pg" ? client : undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are typed by the caller
export async function runSql<Row = any>(db: Knex | Knex.Transaction, text: string, bindings: readonly unknown[] = []): Promise<SqlResult<Row>> {
  const client = directClient(db);
  if (client) {
    // as knex refuses them: an undefined binding is a bug in the caller, never a NULL
    if (bindings.includes(undefined)) throw new Error(`Undefined binding(s) detected when compiling RAW. Undefined column(s): [${bindings.flatMap((b, i) => (b === undefined ? [i] : [])).join(", ")}] query: ${text}`);
    let sql = numberedCache.get(text);
    if (sql === undefined) {
      sql = numbered(text);
      if (numberedCache.size < MAX_CACHED) numberedCache.set(text, sql);
    }
    // knex's "query" event, as knex would have emitted it, for whoever watches the statements (tests do)
    const events = db as unknown as EventEmitter;
    if (events.listenerCount("query") > 0) events.emit("query", { sql, bindings, method: "raw" });
    const connection = await client.acquireConnection();
    try {
      const result = await connection.query({ text: sql, values: bindings });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    } finally {
      await client.releaseConnection(connection);
    }
  }
  const result = await db.raw(text, bindings as Knex.RawBinding[]);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}
