// Every snapshot query is scoped to one directory connection (and so one account): the tenant boundary.
import { runSql } from "../db/run-sql.ts";
import type { Knex } from "knex";
import { pageCursors } from "./page-cursors.ts";

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

/**
 * Runs a scoped list query: one page of rows plus the total count, both from the database.
 *
 * Its plans must not depend on statistics: right after a bulk push, and on PGlite (no autovacuum)
 * until idsync's own ANALYZE runs, the planner estimates ~1 row for `connection_id = ? and
 * deleted_at is null` and, asked for `order by created_at, id limit …`, walks the paging index
 * (connection_id, created_at, id) filtering every row of the connection rather than use the equality
 * index of `userName eq "x"`. So:
 * - a filtered list selects its matches in a MATERIALIZED CTE, which carries no order: the filter
 *   alone chooses the index (the unique one has more equality columns than the paging index, so it
 *   wins even without statistics), and the page is sorted from the few rows it matched;
 * - an unfiltered list in the default order is read by keyset from the paging index: the row a page
 *   starts after is remembered (pageCursors) when the page before it was served, so a sequential
 *   walk by startIndex (Okta's and Entra's imports: 1, 101, 201, …) costs the same at page 1,000 as
 *   at page 1. A jump to a startIndex no page ended at falls back to OFFSET (cost grows with it), and
 *   so does sortBy. The total is counted by its own subquery over the paging index, never by a
 *   window over every row of the connection.
 */
export async function listPage<Row>(
  db: Executor, table: string, alias: string, columns: string, scope: ConnectionScope, query: ListQuery,
): Promise<{ rows: Row[]; total: number }> {
  const base = `${alias}.connection_id = ? and ${alias}.deleted_at is null`;
  const where = `${base}${query.where ? ` and (${query.where.sql})` : ""}`;
  const bindings = [scope.connectionId, ...(query.where?.bindings ?? [])];
  const direction = query.descending ? "desc" : "asc";
  const order = query.orderBy ? `${query.orderBy} ${direction} nulls last, ${alias}.created_at, ${alias}.id` : `${alias}.created_at, ${alias}.id`;
  if (query.limit === 0) {
    const [{ total }] = (await runSql(db, `select count(*)::int as total from ${table} ${alias} where ${where}`, bindings)).rows;
    return { rows: [], total };
  }
  if (query.where) {
    const result = await runSql(db,
      `with matched as materialized (select ${alias}.* from ${table} ${alias} where ${where})
       select ${columns}, (select count(*) from matched)::int as total_count from matched ${alias} order by ${order} limit ? offset ?`,
      [...bindings, query.limit, query.offset],
    );
    return withTotal<Row>(result.rows, query.offset === 0 ? async () => 0 : () => countRows(db, table, alias, where, bindings));
  }
  const walk = query.orderBy === undefined ? { key: cursorKey(table, scope), cursors: pageCursors } : undefined;
  const after = walk && query.offset > 0 ? walk.cursors.get(walk.key, query.offset) : undefined;
  const total = `(select count(*) from ${table} ${alias} where ${base})::int as total_count`;
  // the cursor is the row's exact (created_at, id): created_at as text with all its microseconds (a JS Date has milliseconds)
  const cursorColumn = walk ? `, to_char(${alias}.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as page_cursor_at` : "";
  const result = after
    ? await runSql(db,
      `select ${columns}${cursorColumn}, ${total} from ${table} ${alias}
       where ${base} and (${alias}.created_at, ${alias}.id) > (?::timestamptz, ?::uuid) order by ${order} limit ?`,
      [scope.connectionId, scope.connectionId, after.createdAt, after.id, query.limit])
    : await runSql(db,
      `select ${columns}${cursorColumn}, ${total} from ${table} ${alias} where ${base} order by ${order} limit ? offset ?`,
      [scope.connectionId, scope.connectionId, query.limit, query.offset]);
  const rows = result.rows as Array<Row & { id: string; page_cursor_at?: string }>;
  if (walk && rows.length > 0) {
    const last = rows[rows.length - 1]!;
    walk.cursors.set(walk.key, query.offset + rows.length, { createdAt: last.page_cursor_at!, id: last.id });
  }
  for (const row of rows) delete row.page_cursor_at;
  return withTotal<Row>(rows, query.offset === 0 ? async () => 0 : () => countRows(db, table, alias, base, [scope.connectionId]));
}

async function countRows(db: Executor, table: string, alias: string, where: string, bindings: readonly unknown[]): Promise<number> {
  const [{ total }] = (await runSql(db, `select count(*)::int as total from ${table} ${alias} where ${where}`, bindings)).rows;
  return total;
}

/** The page's rows without their total_count column, and the total (counted apart past the last page, where no row carries it). */
async function withTotal<Row>(raw: unknown[], count: () => Promise<number>): Promise<{ rows: Row[]; total: number }> {
  const rows = raw as Array<Row & { total_count?: number }>;
  if (rows.length === 0) return { rows: [], total: await count() };
  const total = rows[0]!.total_count!;
  for (const row of rows) delete row.total_count;
  return { rows, total };
}

const cursorKey = (table: string, scope: ConnectionScope) => `${table}:${scope.connectionId}`;
