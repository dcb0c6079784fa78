// Set-based writes of many rows: the rows travel as one JSON parameter per chunk (read in SQL with
// jsonb_to_recordset), so thousands of rows cost one round trip, not thousands.
import type { Knex } from "knex";
import { runSql } from "./run-sql.ts";

/** Rows per statement: bounds one parameter's size (PGlite copies it) without costing round trips. */
const CHUNK = 5_000;

/**
 * Runs `sql` once per chunk of `rows`; `bind` places the chunk (a JSON string) among the statement's
 * other bindings. Returns every row the statements returned.
 */
export async function runChunked<Row>(db: Knex | Knex.Transaction, sql: string, rows: readonly Row[],
  bind: (json: string) => unknown[] = (json) => [json]): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const { rows: returned } = await runSql(db, sql, bind(JSON.stringify(rows.slice(i, i + CHUNK))));
    out.push(...returned);
  }
  return out;
}
