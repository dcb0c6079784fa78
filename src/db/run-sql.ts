// Parameterized SQL through knex with honest result types. Values only ever travel as bindings.
import type { Knex } from "knex";

export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are typed by the caller
export async function runSql<Row = any>(db: Knex | Knex.Transaction, text: string, bindings: readonly unknown[] = []): Promise<SqlResult<Row>> {
  const result = await db.raw(text, bindings as Knex.RawBinding[]);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}
