// Every snapshot query is scoped to one directory connection (and so one account): the tenant boundary.
import { runSql } from "../db/run-sql.ts";
import type { Knex } from "knex";

/** The connection a request or run acts for; taken from its credential, never from the request. */
export interface ConnectionScope {
  readonly connectionId: string;
  readonly accountId: string;
}

/** knex or a transaction: query functions take it first so callers choose the transaction. */
export type Executor = Knex | Knex.Transaction;

/** A WHERE fragment and ordering for list queries, compiled by a source (e.g. from a SCIM filter). */
export interface ListQuery {
  readonly where?: { readonly sql: string; readonly bindings: readonly unknown[] };
  readonly orderBy?: string;
  readonly descending?: boolean;
  readonly offset: number;
  readonly limit: number;
}

/** Runs a scoped list query: one page of rows plus the total count, both from the database. */
export async function listPage<Row>(
  db: Executor, table: string, alias: string, columns: string, scope: ConnectionScope, query: ListQuery,
): Promise<{ rows: Row[]; total: number }> {
  const where = `${alias}.connection_id = ? and ${alias}.deleted_at is null${query.where ? ` and (${query.where.sql})` : ""}`;
  const bindings = [scope.connectionId, ...(query.where?.bindings ?? [])];
  const direction = query.descending ? "desc" : "asc";
  const order = query.orderBy ? `${query.orderBy} ${direction} nulls last, ${alias}.created_at, ${alias}.id` : `${alias}.created_at, ${alias}.id`;
  if (query.limit === 0) {
    const [{ total }] = (await runSql(db, `select count(*)::int as total from ${table} ${alias} where ${where}`, bindings)).rows;
    return { rows: [], total };
  }
  const result = await runSql(db, 
    `select ${columns}, count(*) over ()::int as total_count from ${table} ${alias} where ${where} order by ${order} limit ? offset ?`,
    [...bindings, query.limit, query.offset],
  );
  const rows = result.rows as Array<Row & { total_count: number }>;
  if (rows.length > 0) return { rows, total: rows[0]!.total_count };
  if (query.offset === 0) return { rows: [], total: 0 };
  // past the last page the window count has no row to ride on
  const [{ total }] = (await runSql(db, `select count(*)::int as total from ${table} ${alias} where ${where}`, bindings)).rows;
  return { rows: [], total };
}
