// Set-based writes of many rows as one typed array per column, read in SQL with `unnest`: a chunk of
// thousands of rows is one statement and one round trip, and PostgreSQL (PGlite alike) reads each value
// as its column's type straight from the array, without parsing a JSON document of the whole chunk and
// picking it apart again (what jsonb_to_recordset costs, several times the rows' own size).
import type { Knex } from "knex";
import { runSql } from "./run-sql.ts";

/** Rows per statement: bounds one parameter's size (PGlite copies it) without costing round trips. */
const CHUNK = 5_000;

/** A column's SQL type; a jsonb column's values travel as their JSON text (null and undefined as SQL null). */
export type ColumnType = "uuid" | "text" | "jsonb";
export type Columns = Readonly<Record<string, ColumnType>>;

/** `unnest(?::uuid[], ?::text[]) with ordinality as r(user_id, role, ord)`: the rows of `columns`, in their order. */
export function unnestRows(columns: Columns, alias = "r"): string {
  const names = Object.keys(columns);
  return `unnest(${names.map((n) => `?::${columns[n]}[]`).join(", ")}) with ordinality as ${alias}(${names.join(", ")}, ord)`;
}

/** One array per column of `columns`, in their order: the bindings of unnestRows(columns). */
export function columnArrays(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, columns: Columns): unknown[][] {
  return Object.keys(columns).map((name) => columns[name] === "jsonb"
    ? rows.map((row) => (row[name] == null ? null : JSON.stringify(row[name])))
    : rows.map((row) => row[name] ?? null));
}

/**
 * Runs `sql` once per chunk of `rows`, whose `columns` it reads with unnestRows(columns); `bind` places
 * the chunk's arrays (one per column, in the columns' order) among the statement's other bindings
 * (and may derive more from the chunk's rows themselves).
 * Returns every row the statements returned.
 */
export async function runChunkedColumns<Row extends Readonly<Record<string, unknown>>>(db: Knex | Knex.Transaction, sql: string,
  rows: readonly Row[], columns: Columns, bind: (arrays: unknown[][], chunk: readonly Row[]) => unknown[] = (arrays) => arrays): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const { rows: returned } = await runSql(db, sql, bind(columnArrays(chunk, columns), chunk));
    out.push(...returned);
  }
  return out;
}
