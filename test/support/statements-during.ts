// The SQL statements a database handle ran while `work` was in flight, as knex's "query" event reports
// them (src/db/run-sql.ts emits it for the statements it sends past knex, so every statement counts).
import type { Knex } from "knex";

export interface Statement {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

export async function statementsDuring(knex: Knex, work: () => Promise<unknown>): Promise<Statement[]> {
  const seen: Statement[] = [];
  const listener = (query: { sql: string; bindings?: readonly unknown[] }) => seen.push({ sql: query.sql, bindings: query.bindings ?? [] });
  knex.on("query", listener);
  try {
    await work();
  } finally {
    knex.off("query", listener);
  }
  return seen;
}
