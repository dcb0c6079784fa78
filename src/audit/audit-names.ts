// The audit trail as a person reads it: every id a row holds (its target, the domains and owners in
// its before/after) gets the email, domain name, key or connection name beside it.
//
// Names are looked up when the trail is read, not copied into rows when they are written: a row stays
// the fact (ids, which never change), rows written before this existed read the same way, and a filter
// by person follows the user id across email changes (the `user.email_changed` row keeps the old and
// new address). The cost is one query per kind of id for the page of rows being shown.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";

export interface AuditRow {
  readonly id: number;
  readonly occurred_at: Date | string;
  readonly actor: string;
  readonly action: string;
  readonly target_type: string;
  readonly target_id: string | null;
  readonly before: unknown;
  readonly after: unknown;
  readonly connection_id: string | null;
  readonly rule: string | null;
  readonly run_id: string | null;
}

export interface ReadableAuditRow extends AuditRow {
  /** The target's email, domain, key or connection name; null when it has none (an alert, a run). */
  readonly target_name: string | null;
  /** Every id in the row that has a name, with that name. */
  readonly names: Readonly<Record<string, string>>;
  /** before → after, with names for the ids in them. */
  readonly change: string;
}

export interface AuditNames {
  readonly users: ReadonlyMap<string, string>;
  readonly domains: ReadonlyMap<string, string>;
  readonly connections: ReadonlyMap<string, string>;
  /** key id → `name (creator's email)` */
  readonly keys: ReadonlyMap<string, string>;
  /** account id → slug */
  readonly accounts: ReadonlyMap<string, string>;
}

type IdKind = keyof AuditNames;

/** before/after keys that hold ids, and what kind. */
const ID_FIELDS: Record<string, IdKind> = { domainId: "domains", removedDomainIds: "domains", owner: "users", userId: "users", keyId: "keys" };
const TARGET_KIND: Record<string, IdKind> = { user: "users", domain: "domains", connection: "connections", api_key: "keys", account: "accounts", rules: "accounts" };
/** How an id field is labelled in `change`. */
const LABEL: Record<string, string> = { domainId: "domain", removedDomainIds: "removed domains", userId: "user", keyId: "key" };

const sides = (row: AuditRow) => [row.before, row.after].filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null && !Array.isArray(s));

/** The ids a page of rows mentions, by kind: what `loadAuditNames` looks up. */
export function idsIn(rows: readonly AuditRow[]): Record<IdKind, Set<string>> {
  const ids: Record<IdKind, Set<string>> = { users: new Set(), domains: new Set(), connections: new Set(), keys: new Set(), accounts: new Set() };
  for (const row of rows) {
    const kind = TARGET_KIND[row.target_type];
    if (kind && row.target_id) ids[kind].add(row.target_id);
    if (row.connection_id) ids.connections.add(row.connection_id);
    for (const side of sides(row)) {
      for (const [field, kind] of Object.entries(ID_FIELDS)) {
        const value = side[field];
        for (const id of Array.isArray(value) ? value : [value]) if (typeof id === "string") ids[kind].add(id);
      }
    }
  }
  return ids;
}

function renderSide(side: unknown, name: (kind: IdKind, id: string) => string): string {
  if (side === null || side === undefined) return "—";
  if (typeof side !== "object" || Array.isArray(side)) return JSON.stringify(side);
  // what it is about (a domain, a user) first, then the rest by name: jsonb does not keep the written order
  const entries = Object.entries(side).sort(([a], [b]) => Number(!(a in ID_FIELDS)) - Number(!(b in ID_FIELDS)) || a.localeCompare(b));
  return entries.map(([field, value]) => {
    const kind = ID_FIELDS[field];
    if (kind && (typeof value === "string" || Array.isArray(value))) {
      const list = (Array.isArray(value) ? value : [value]).map((id) => name(kind, String(id)));
      return `${LABEL[field] ?? field}: ${list.join(", ")}`;
    }
    return `${field}: ${typeof value === "string" ? value : JSON.stringify(value)}`;
  }).join(", ");
}

/** Pure: the rows with their names and a readable change. Unknown ids stay as they are. */
export function readableAudit(rows: readonly AuditRow[], names: AuditNames): ReadableAuditRow[] {
  return rows.map((row) => {
    const found: Record<string, string> = {};
    const name = (kind: IdKind, id: string) => {
      const known = names[kind].get(id);
      if (known === undefined) return id;
      found[id] = known;
      return known;
    };
    const kind = TARGET_KIND[row.target_type];
    const target = kind && row.target_id ? names[kind].get(row.target_id) ?? null : null;
    if (target !== null) found[row.target_id!] = target;
    if (row.connection_id) name("connections", row.connection_id);
    const change = `${renderSide(row.before, name)} → ${renderSide(row.after, name)}`;
    return { ...row, target_name: target, names: found, change };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuids = (ids: Set<string>) => [...ids].filter((id) => UUID.test(id));

async function lookup(db: Executor, sql: string, ids: Set<string>): Promise<Map<string, string>> {
  const list = uuids(ids);
  if (list.length === 0) return new Map();
  const { rows } = await runSql<{ id: string; name: string }>(db, sql, [list]);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The names of the ids a page of rows mentions: one query per kind, only for those ids. */
export async function loadAuditNames(db: Executor, rows: readonly AuditRow[]): Promise<AuditNames> {
  const ids = idsIn(rows);
  return {
    users: await lookup(db, `select id, email as name from users where id = any(?::uuid[])`, ids.users),
    domains: await lookup(db, `select id, name from sending_domains where id = any(?::uuid[])`, ids.domains),
    connections: await lookup(db, `select id, name from directory_connections where id = any(?::uuid[])`, ids.connections),
    keys: await lookup(db, `select k.id, k.name || ' (' || u.email || ')' as name from api_keys k join users u on u.id = k.created_by_user_id
      where k.id = any(?::uuid[])`, ids.keys),
    accounts: await lookup(db, `select id, slug as name from accounts where id = any(?::uuid[])`, ids.accounts),
  };
}
