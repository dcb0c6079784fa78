// Compares the schema's tenant classification with the two lists a test keeps: the global tables (with
// a reason each) and the debt (tenant tables and keys that still lack account_id). Returns one message
// per disagreement, each naming the list to edit and how; an empty result means the lists are exact.
import { TENANT_COLUMN, type Classification } from "./tenant-classification.ts";

export const LISTS_FILE = "test/db/tenant-keys.test.ts";

/** A table shared by every account: where it would live in Citus and why it is not tenant data. */
export interface GlobalTable {
  /** reference: replicated to every node (create_reference_table); coordinator: a local table there only. */
  readonly placement: "reference" | "coordinator";
  readonly reason: string;
}

/** What one tenant table still lacks to be distributed by account_id, co-located with the others. */
export interface KeyDebt {
  /** The table has no account_id column: the tenant table it would be backfilled from (one it references). */
  readonly accountIdFrom?: string;
  /** The primary key it would have: account_id first, then its present key. Absent when its key has account_id. */
  readonly primaryKey?: readonly string[];
  /** Unique indexes without account_id, by name. */
  readonly uniqueKeys?: readonly string[];
  /** Foreign keys to another tenant table that do not pair account_id with account_id, by name. */
  readonly foreignKeys?: readonly string[];
  /** What the fix involves beyond adding the column, when it is more than that. */
  readonly note?: string;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const list = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(", ");

/** Every way the schema and the two lists disagree, as messages that say which literal to change. */
export function findKeyDebtDrift(
  classification: Classification,
  globals: Readonly<Record<string, GlobalTable>>,
  debt: Readonly<Record<string, KeyDebt>>,
): string[] {
  const problems: string[] = [];
  const { tenant, nonTenant } = classification;

  // every table is either tenant data (computed) or a declared global table
  for (const name of nonTenant) {
    if (!(name in globals)) {
      problems.push(`table ${name} has no ${TENANT_COLUMN} and references no tenant table, and it is not in GLOBAL_TABLES (${LISTS_FILE}). ` +
        `If it holds no account's data, add  ${name}: { placement: "reference" | "coordinator", reason: "…" }  to GLOBAL_TABLES and a row for it in docs/scaling.md's global tables; ` +
        `if it does, give it ${TENANT_COLUMN} (first in its primary key) in its migration.`);
    }
  }
  for (const [name, entry] of Object.entries(globals)) {
    const t = tenant.get(name);
    if (t) {
      problems.push(`GLOBAL_TABLES (${LISTS_FILE}) lists ${name}, but it holds tenant data (it ${t.because}): a reference table cannot point at a ` +
        `distributed one. Remove ${name} from GLOBAL_TABLES, or drop what ties it to an account.`);
    } else if (!nonTenant.includes(name)) {
      problems.push(`GLOBAL_TABLES (${LISTS_FILE}) lists ${name}, which no longer exists: remove its entry.`);
    } else if (!entry.reason.trim()) {
      problems.push(`GLOBAL_TABLES (${LISTS_FILE}) gives ${name} no reason: say why no account owns its rows.`);
    }
  }

  for (const t of tenant.values()) {
    const owed = debt[t.name];
    const where = `TENANT_KEY_DEBT.${t.name} (${LISTS_FILE})`;
    // a table created from now on must be right from the start: the list only shrinks
    if (!t.primaryKeyHasAccountId && !owed?.primaryKey) {
      const key = t.primaryKey.length > 0 ? `(${t.primaryKey.join(", ")})` : "no primary key";
      problems.push(`table ${t.name} holds tenant data (it ${t.because}) but its primary key is ${key}, without ${TENANT_COLUMN}. ` +
        `Fix its migration: ${t.hasAccountId ? "" : `add ${TENANT_COLUMN} uuid not null, `}primary key (${[TENANT_COLUMN, ...t.primaryKey].join(", ")}). ` +
        `TENANT_KEY_DEBT (${LISTS_FILE}) only shrinks; a table that must stay so for now needs the lead's decision, then ` +
        `${t.name}: { ${t.hasAccountId ? "" : `accountIdFrom: ${JSON.stringify(t.referencedTenantTables[0] ?? "?")}, `}primaryKey: [${list([TENANT_COLUMN, ...t.primaryKey])}] }  there, and its name in docs/scaling.md.`);
    }
    const newUnique = t.uniqueKeysWithoutAccountId.filter((k) => !owed?.uniqueKeys?.includes(k));
    if (newUnique.length > 0) {
      problems.push(`table ${t.name} holds tenant data but its unique key(s) ${newUnique.join(", ")} lack ${TENANT_COLUMN}: ` +
        `add ${TENANT_COLUMN} to each (Citus enforces uniqueness only within a shard). They are not in ${where}, which only shrinks.`);
    }
    const newForeign = t.foreignKeysWithoutAccountId.filter((k) => !owed?.foreignKeys?.includes(k));
    if (newForeign.length > 0) {
      problems.push(`table ${t.name} holds tenant data but its foreign key(s) ${newForeign.join(", ")} point at a tenant table without pairing ` +
        `${TENANT_COLUMN} with ${TENANT_COLUMN}: reference (${TENANT_COLUMN}, …) → (${TENANT_COLUMN}, …) instead. They are not in ${where}, which only shrinks.`);
    }
  }

  for (const [name, owed] of Object.entries(debt)) {
    const where = `TENANT_KEY_DEBT.${name} (${LISTS_FILE})`;
    const t = tenant.get(name);
    if (!t) {
      problems.push(nonTenant.includes(name)
        ? `${where}: ${name} no longer holds tenant data by the schema; remove its entry (and add it to GLOBAL_TABLES if it is shared).`
        : `${where}: table ${name} no longer exists; remove its entry and its mention in docs/scaling.md.`);
      continue;
    }
    if (owed.primaryKey) {
      if (t.primaryKeyHasAccountId) problems.push(`${where}: its primary key now has ${TENANT_COLUMN} (${t.primaryKey.join(", ")}); remove primaryKey from the entry.`);
      else if (!same(owed.primaryKey, [TENANT_COLUMN, ...t.primaryKey])) {
        problems.push(`${where}: primaryKey says [${list(owed.primaryKey)}], but the table's key is (${t.primaryKey.join(", ")}): set it to [${list([TENANT_COLUMN, ...t.primaryKey])}].`);
      }
    }
    if (owed.accountIdFrom !== undefined && t.hasAccountId) problems.push(`${where}: the table now has ${TENANT_COLUMN}; remove accountIdFrom.`);
    if (owed.accountIdFrom === undefined && !t.hasAccountId) {
      problems.push(`${where}: the table has no ${TENANT_COLUMN}; say where it is backfilled from, accountIdFrom: one of ${list(t.referencedTenantTables)}.`);
    }
    if (owed.accountIdFrom !== undefined && !t.hasAccountId && !t.referencedTenantTables.includes(owed.accountIdFrom)) {
      problems.push(`${where}: accountIdFrom ${JSON.stringify(owed.accountIdFrom)} is not a tenant table it references; use one of ${list(t.referencedTenantTables)}.`);
    }
    for (const k of owed.uniqueKeys ?? []) {
      if (!t.uniqueKeysWithoutAccountId.includes(k)) problems.push(`${where}: unique key ${k} now has ${TENANT_COLUMN} or is gone; remove it from uniqueKeys.`);
    }
    for (const k of owed.foreignKeys ?? []) {
      if (!t.foreignKeysWithoutAccountId.includes(k)) problems.push(`${where}: foreign key ${k} now pairs ${TENANT_COLUMN} or is gone; remove it from foreignKeys.`);
    }
    if (!owed.primaryKey && !owed.uniqueKeys?.length && !owed.foreignKeys?.length) {
      problems.push(`${where}: owes nothing any more; remove the entry and its row in docs/scaling.md.`);
    }
  }
  return problems;
}
