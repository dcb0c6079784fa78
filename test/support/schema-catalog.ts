// The migrated schema as plain data, read from pg_catalog: each table of the connection's own schema
// (public on PGlite, the test's schema on PostgreSQL; a library's schema such as graphile_worker is
// never in it), its columns, primary key, unique indexes and foreign keys. Works on PGlite and PostgreSQL.
import type { Knex } from "knex";

export interface ForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  /** The referenced table, when it is in the same schema; null when it is in another. */
  readonly references: string | null;
  readonly referencedColumns: readonly string[];
}

export interface UniqueIndex {
  readonly name: string;
  /** Plain key columns; an expression key (e.g. lower(email)) is not listed. */
  readonly columns: readonly string[];
  readonly definition: string;
}

export interface CatalogTable {
  readonly name: string;
  readonly columns: readonly string[];
  /** Empty when the table has no primary key. */
  readonly primaryKey: readonly string[];
  /** Unique indexes other than the primary key's, unique constraints included. */
  readonly uniqueIndexes: readonly UniqueIndex[];
  readonly foreignKeys: readonly ForeignKey[];
}

type Row<T> = { rows: T[] };

/** Every ordinary or partitioned table of the current schema (partitions are left out), by name. */
export async function readSchemaCatalog(knex: Knex): Promise<Map<string, CatalogTable>> {
  const tables = (await knex.raw(`
    select c.oid::int as oid, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname`)) as Row<{ oid: number; name: string }>;
  const columns = (await knex.raw(`
    select a.attrelid::int as oid, a.attnum as num, a.attname as name
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and a.attnum > 0 and not a.attisdropped
    order by a.attrelid, a.attnum`)) as Row<{ oid: number; num: number; name: string }>;
  const constraints = (await knex.raw(`
    select k.conrelid::int as oid, k.conname as name, k.contype as type, k.conkey::int[] as keys,
           k.confkey::int[] as foreign_keys, f.relname as foreign_table, fn.nspname = current_schema() as same_schema,
           k.confrelid::int as foreign_oid
    from pg_constraint k
      join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_class f on f.oid = k.confrelid left join pg_namespace fn on fn.oid = f.relnamespace
    where n.nspname = current_schema() and k.contype in ('p', 'f')
    order by k.conname`)) as Row<{
      oid: number; name: string; type: "p" | "f"; keys: number[]; foreign_keys: number[] | null;
      foreign_table: string | null; same_schema: boolean | null; foreign_oid: number;
    }>;
  // indkey is an int2vector: its text form is the attribute numbers separated by spaces, 0 for an expression
  const indexes = (await knex.raw(`
    select i.indrelid::int as oid, x.relname as name, i.indkey::text as keys, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i join pg_class x on x.oid = i.indexrelid
      join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and i.indisunique and not i.indisprimary
    order by x.relname`)) as Row<{ oid: number; name: string; keys: string; definition: string }>;

  const columnName = new Map<string, string>();
  const columnsOf = new Map<number, string[]>();
  for (const c of columns.rows) {
    columnName.set(`${c.oid}:${c.num}`, c.name);
    columnsOf.set(c.oid, [...(columnsOf.get(c.oid) ?? []), c.name]);
  }
  const names = (oid: number, nums: readonly number[]) => nums.map((n) => columnName.get(`${oid}:${n}`) ?? `#${n}`);

  const catalog = new Map<string, CatalogTable>();
  for (const t of tables.rows) {
    const own = constraints.rows.filter((k) => k.oid === t.oid);
    const pk = own.find((k) => k.type === "p");
    catalog.set(t.name, {
      name: t.name,
      columns: columnsOf.get(t.oid) ?? [],
      primaryKey: pk ? names(t.oid, pk.keys) : [],
      uniqueIndexes: indexes.rows.filter((i) => i.oid === t.oid).map((i) => ({
        name: i.name,
        columns: names(t.oid, i.keys.split(" ").map(Number).filter((n) => n > 0)),
        definition: i.definition,
      })),
      foreignKeys: own.filter((k) => k.type === "f").map((k) => ({
        name: k.name,
        columns: names(t.oid, k.keys),
        references: k.same_schema ? k.foreign_table : null,
        referencedColumns: names(k.foreign_oid, k.foreign_keys ?? []),
      })),
    });
  }
  return catalog;
}
