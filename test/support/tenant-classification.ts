// Which tables hold an account's data, computed from the schema rather than listed by hand, and what
// each would lack to be distributed by account_id with Citus (Citus docs, "Creating and Modifying
// Distributed Tables (DDL)": primary keys and unique constraints must include the distribution column;
// a foreign key between two distributed tables must include it on both sides).
import type { CatalogTable } from "./schema-catalog.ts";

/** The tenant itself: a table that references it holds that tenant's data, whatever the column is called. */
export const TENANT_ROOT = "accounts";
export const TENANT_COLUMN = "account_id";

export interface TenantTable {
  readonly name: string;
  /** Why it is tenant data: "has account_id", or "references <table>" (the first tenant table it points at). */
  readonly because: string;
  readonly hasAccountId: boolean;
  readonly primaryKey: readonly string[];
  readonly primaryKeyHasAccountId: boolean;
  /** Tenant tables (or the root) it references by foreign key: where a missing account_id can be backfilled from. */
  readonly referencedTenantTables: readonly string[];
  /** Unique indexes that do not include account_id as a plain column. */
  readonly uniqueKeysWithoutAccountId: readonly string[];
  /** Foreign keys to another tenant table that do not pair account_id with account_id. */
  readonly foreignKeysWithoutAccountId: readonly string[];
}

export interface Classification {
  readonly tenant: ReadonlyMap<string, TenantTable>;
  /** Tables that are not tenant data by the schema: each must be a declared global table. */
  readonly nonTenant: readonly string[];
}

/**
 * A table is tenant data when it has an account_id column, or references (by foreign key, directly or
 * through other tables) the tenant root or a tenant table. Everything else is not tenant data. The
 * root itself is never tenant data here: it is the tenant.
 */
export function classifyTables(catalog: ReadonlyMap<string, CatalogTable>): Classification {
  const because = new Map<string, string>();
  for (const table of catalog.values()) {
    if (table.name !== TENANT_ROOT && table.columns.includes(TENANT_COLUMN)) because.set(table.name, `has ${TENANT_COLUMN}`);
  }
  // fixed point: a reference to the root or to a table already known to be tenant data makes it tenant data
  for (let grew = true; grew;) {
    grew = false;
    for (const table of catalog.values()) {
      if (table.name === TENANT_ROOT || because.has(table.name)) continue;
      const target = table.foreignKeys.find((fk) => fk.references === TENANT_ROOT || (fk.references && because.has(fk.references)));
      if (target) {
        because.set(table.name, `references ${target.references}`);
        grew = true;
      }
    }
  }

  const isTenant = (name: string | null) => name !== null && because.has(name);
  const tenant = new Map<string, TenantTable>();
  for (const [name, reason] of [...because].sort(([a], [b]) => a.localeCompare(b))) {
    const table = catalog.get(name)!;
    tenant.set(name, {
      name,
      because: reason,
      hasAccountId: table.columns.includes(TENANT_COLUMN),
      primaryKey: table.primaryKey,
      primaryKeyHasAccountId: table.primaryKey.includes(TENANT_COLUMN),
      referencedTenantTables: [...new Set(table.foreignKeys
        .map((fk) => fk.references)
        .filter((r): r is string => r === TENANT_ROOT || isTenant(r)))].sort(),
      uniqueKeysWithoutAccountId: table.uniqueIndexes.filter((i) => !i.columns.includes(TENANT_COLUMN)).map((i) => i.name),
      foreignKeysWithoutAccountId: table.foreignKeys
        .filter((fk) => isTenant(fk.references))
        .filter((fk) => !fk.columns.some((c, i) => c === TENANT_COLUMN && fk.referencedColumns[i] === TENANT_COLUMN))
        .map((fk) => fk.name),
    });
  }
  const nonTenant = [...catalog.keys()].filter((name) => !because.has(name)).sort();
  return { tenant, nonTenant };
}
