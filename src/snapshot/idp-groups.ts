// The snapshot's groups. Members live in idp_group_members and change incrementally: the cost of a
// membership change depends on the members named, never on the size of the group.
// Statements that find rows by a key of their own index (id, userName, …) compare the connection as
// text (`connection_id::text = ?`): no index serves that form, so the planner cannot pick an index
// that leads with connection_id instead. On a never-analyzed table (after a bulk push; PGlite until
// idsync's ANALYZE) every such partial index is estimated at one row and they tie with the right one;
// the paging index won, and each lookup read every row of the connection.
import { randomUUID } from "node:crypto";
import { runSql } from "../db/run-sql.ts";
import { listPage, type ConnectionScope, type Executor, type ListQuery } from "./connection-scope.ts";

export interface IdpGroupFields {
  readonly externalId: string | null;
  readonly displayName: string;
  readonly email?: string | null;
  /** The resource as sent, without members. */
  readonly resource: Record<string, unknown>;
}

export interface IdpGroupRow {
  id: string;
  connection_id: string;
  account_id: string;
  source_id: string;
  external_id: string | null;
  display_name: string;
  email: string | null;
  resource: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A member reference as a client sends it. */
export interface MemberReference {
  readonly value: string;
  readonly display?: string | null;
}

export interface GroupMemberRow {
  member_id: string;
  member_type: "User" | "Group";
  display: string | null;
}

const COLUMNS = "g.id, g.connection_id, g.account_id, g.source_id, g.external_id, g.display_name, g.email, g.resource, g.version, g.created_at, g.updated_at";
const RETURNING = COLUMNS.replaceAll("g.", "");

/** A SCIM group's displayName is taken by another live group of its connection (case-insensitively). */
export class GroupNameTakenError extends Error {
  constructor(readonly displayName: string) {
    super(`displayName "${displayName}" is already used by another group of this connection (names are unique, ignoring case)`);
    this.name = "GroupNameTakenError";
  }
}

const UNIQUE_NAME_INDEX = "idp_groups_unique_name";

/**
 * Refuses a name another live group of the connection holds. A group keeping its own name (in any
 * case) passes even if a same-named group predates uniqueness: existing duplicates stay writable.
 * Two requests racing for one free name both pass here; the unique index on `unique_name` then
 * refuses the second (see claimingName).
 */
async function assertGroupNameFree(db: Executor, scope: ConnectionScope, displayName: string, groupId?: string): Promise<void> {
  const { rows } = await runSql<{ id: string }>(db,
    `select id from idp_groups where connection_id::text = ? and lower(display_name) = lower(?) and deleted_at is null`, [scope.connectionId, displayName]);
  if (groupId !== undefined && rows.some((r) => r.id === groupId)) return;
  if (rows.length > 0) throw new GroupNameTakenError(displayName);
}

/** Runs a write that claims a group name, turning the unique index's refusal into GroupNameTakenError. */
async function claimingName<T>(displayName: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const pg = error as { code?: string; constraint?: string; message?: string };
    if (pg?.code === "23505" && (pg.constraint === UNIQUE_NAME_INDEX || String(pg.message).includes(UNIQUE_NAME_INDEX))) throw new GroupNameTakenError(displayName);
    throw error;
  }
}

/**
 * Resolves the duplicate-name alerts (raised when uniqueness was introduced) that name this group and
 * whose two groups no longer share a live name: one was renamed or deleted.
 */
async function resolveDuplicateNameAlerts(db: Executor, scope: ConnectionScope, groupId: string): Promise<void> {
  await runSql(db,
    `update alerts a set resolved_at = now()
     where a.account_id = ? and a.kind = 'duplicate_group_name' and a.resolved_at is null and a.data -> 'groupIds' @> jsonb_build_array(?::text)
       and (select count(*) = 2 and count(distinct lower(g.display_name)) = 1 from idp_groups g
            where g.id::text in (select jsonb_array_elements_text(a.data -> 'groupIds')) and g.deleted_at is null) is not true`,
    [scope.accountId, groupId]);
}

/** Creates a group; throws GroupNameTakenError when another live group of the connection has its name. */
export async function insertIdpGroup(db: Executor, scope: ConnectionScope, fields: IdpGroupFields, sourceId?: string): Promise<IdpGroupRow> {
  const id = randomUUID();
  await assertGroupNameFree(db, scope, fields.displayName);
  const result = await claimingName(fields.displayName, () => runSql(db,
    `insert into idp_groups (id, connection_id, account_id, source_id, external_id, display_name, email, resource, unique_name)
     values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, lower(?)) returning ${RETURNING}`,
    [id, scope.connectionId, scope.accountId, sourceId ?? id, fields.externalId, fields.displayName, fields.email ?? null,
      JSON.stringify(fields.resource), fields.displayName],
  ));
  return result.rows[0];
}

/** The name column updates of a write that may rename: a rename claims the new name, keeping it does not. */
const RENAME_SETS = "display_name = ?, unique_name = case when lower(display_name) = lower(?) then unique_name else lower(?) end";

/** Replaces a live group's attributes; throws GroupNameTakenError on a rename to a name in use. */
export async function replaceIdpGroup(db: Executor, scope: ConnectionScope, id: string, fields: IdpGroupFields): Promise<IdpGroupRow | undefined> {
  await assertGroupNameFree(db, scope, fields.displayName, id);
  const result = await claimingName(fields.displayName, () => runSql(db,
    `update idp_groups set external_id = ?, ${RENAME_SETS}, email = ?, resource = ?::jsonb, version = version + 1, updated_at = now()
     where id = ? and connection_id::text = ? and deleted_at is null returning ${RETURNING}`,
    [fields.externalId, fields.displayName, fields.displayName, fields.displayName, fields.email ?? null, JSON.stringify(fields.resource), id, scope.connectionId],
  ));
  if (result.rows[0]) await resolveDuplicateNameAlerts(db, scope, id);
  return result.rows[0];
}

/** Sets some attributes of a live group (only those given). */
export async function updateIdpGroupAttributes(
  db: Executor, scope: ConnectionScope, id: string, changes: { displayName?: string; externalId?: string | null },
): Promise<void> {
  const sets: string[] = [];
  const bindings: unknown[] = [];
  if (changes.displayName !== undefined) {
    await assertGroupNameFree(db, scope, changes.displayName, id);
    sets.push(RENAME_SETS, `resource = jsonb_set(resource, '{displayName}', to_jsonb(?::text))`);
    bindings.push(changes.displayName, changes.displayName, changes.displayName, changes.displayName);
  }
  if (changes.externalId !== undefined) {
    sets.push("external_id = ?", changes.externalId === null ? "resource = resource - 'externalId'" : `resource = jsonb_set(resource, '{externalId}', to_jsonb(?::text))`);
    bindings.push(changes.externalId, ...(changes.externalId === null ? [] : [changes.externalId]));
  }
  if (sets.length === 0) return;
  await claimingName(changes.displayName ?? "", () =>
    runSql(db, `update idp_groups set ${sets.join(", ")} where id = ? and connection_id::text = ?`, [...bindings, id, scope.connectionId]));
  if (changes.displayName !== undefined) await resolveDuplicateNameAlerts(db, scope, id);
}

/** Sets a group's stored SCIM document (its columns stay as they are): for attributes no column holds. */
export async function replaceIdpGroupResource(db: Executor, scope: ConnectionScope, id: string, resource: Record<string, unknown>): Promise<void> {
  await runSql(db, `update idp_groups set resource = ?::jsonb where id = ? and connection_id::text = ? and deleted_at is null`,
    [JSON.stringify(resource), id, scope.connectionId]);
}

/** A live group by id; the connection compared as text so that only the primary key serves it (see findIdpGroupsBy). */
export async function findIdpGroup(db: Executor, scope: ConnectionScope, id: string): Promise<IdpGroupRow | undefined> {
  const result = await runSql(db, `select ${COLUMNS} from idp_groups g where g.id = ? and g.connection_id::text = ? and g.deleted_at is null`, [id, scope.connectionId]);
  return result.rows[0];
}

/** The attributes a SCIM client looks a group up by (`<attribute> eq "value"`), as SQL over the index that leads with it. */
const LOOKUPS = {
  id: "g.id = ?::uuid",
  displayName: "lower(g.display_name) = lower(?)",
  externalId: "g.external_id = ?",
} as const;
export type GroupLookup = keyof typeof LOOKUPS;
export const GROUP_LOOKUPS = Object.keys(LOOKUPS) as GroupLookup[];

/**
 * The live groups of the connection whose attribute equals `value` (displayName ignoring case),
 * oldest first. As findIdpUsersBy: the connection is compared as text, which no index serves, so
 * without statistics too the planner can only use the index that leads with the looked-up value
 * (primary key, idp_groups_display_name, idp_groups_external_id), never the paging index.
 */
export async function findIdpGroupsBy(db: Executor, scope: ConnectionScope, attribute: GroupLookup, value: string): Promise<IdpGroupRow[]> {
  const result = await runSql<IdpGroupRow>(db,
    `select ${COLUMNS} from idp_groups g where ${LOOKUPS[attribute]} and g.connection_id::text = ? and g.deleted_at is null order by g.created_at, g.id`,
    [value, scope.connectionId]);
  return result.rows;
}

/**
 * Bumps a live group's version and takes its row lock for the rest of the transaction, so concurrent
 * membership changes to one group apply one after another (no lost update); undefined when absent.
 */
export async function lockIdpGroup(trx: Executor, scope: ConnectionScope, id: string): Promise<IdpGroupRow | undefined> {
  const result = await runSql(trx, 
    `update idp_groups set version = version + 1, updated_at = now() where id = ? and connection_id::text = ? and deleted_at is null returning ${RETURNING}`,
    [id, scope.connectionId],
  );
  return result.rows[0];
}

export function listIdpGroups(db: Executor, scope: ConnectionScope, query: ListQuery): Promise<{ rows: IdpGroupRow[]; total: number }> {
  return listPage<IdpGroupRow>(db, "idp_groups", "g", COLUMNS, scope, query);
}

export async function tombstoneIdpGroup(db: Executor, scope: ConnectionScope, id: string): Promise<boolean> {
  const result = await runSql(db, 
    `update idp_groups set deleted_at = now(), updated_at = now(), version = version + 1
     where id = ? and connection_id::text = ? and deleted_at is null returning id`,
    [id, scope.connectionId],
  );
  if (result.rows.length === 0) return false;
  await resolveDuplicateNameAlerts(db, scope, id);
  await runSql(db, `delete from idp_group_members where group_id = ?`, [id]);
  await runSql(db, 
    `delete from idp_group_members m using idp_groups g where m.member_id = ? and g.id = m.group_id and g.connection_id::text = ?`,
    [id, scope.connectionId],
  );
  return true;
}

/** Direct members of several groups at once, grouped by group id. */
export async function listGroupMembers(db: Executor, groupIds: readonly string[]): Promise<Map<string, GroupMemberRow[]>> {
  const byGroup = new Map<string, GroupMemberRow[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return byGroup;
  const result = await runSql(db, 
    `select group_id, member_id, member_type, display from idp_group_members where group_id = any(?::uuid[]) order by group_id, created_at, member_id`,
    [groupIds],
  );
  for (const row of result.rows as Array<GroupMemberRow & { group_id: string }>) {
    byGroup.get(row.group_id)!.push({ member_id: row.member_id, member_type: row.member_type, display: row.display });
  }
  return byGroup;
}

/** Ids (valid UUIDs) that name no live user or group of this connection. */
export async function findUnknownMembers(db: Executor, scope: ConnectionScope, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const result = await runSql(db, 
    `select r.id from unnest(?::uuid[]) as r(id)
     where (select u.deleted_at is null from idp_users u where u.id = r.id and u.connection_id::text = ?) is not true
       and (select g.deleted_at is null from idp_groups g where g.id = r.id and g.connection_id::text = ?) is not true`,
    [ids, scope.connectionId, scope.connectionId],
  );
  return result.rows.map((r: { id: string }) => r.id);
}

/**
 * The members a request names (`requested`, bound as a JSON array of {value, display}) and those of
 * them that are live users or groups of the connection (`found`, the connection id bound twice).
 * Each member is looked up by a scalar subquery on the primary key that reads deleted_at rather than
 * filtering on it: as a join, without statistics, the planner hashed `requested` against a scan of a
 * partial (`deleted_at is null`) index it guessed held one row, and read every live user.
 */
const REQUESTED_MEMBERS_CTES = `requested as (select distinct on (value) value, display from jsonb_to_recordset(?::jsonb) as m(value uuid, display text)),
     found as (
       select r.value, r.display, 'User' as member_type from requested r
         where (select u.deleted_at is null from idp_users u where u.id = r.value and u.connection_id::text = ?)
       union all
       select r.value, r.display, 'Group' from requested r
         where (select g.deleted_at is null from idp_groups g where g.id = r.value and g.connection_id::text = ?)
     )`;

/**
 * Adds and removes members of a live group atomically, with its reconcile request (`change` + group
 * id), by one call of the database function change_group_members (migrations/…_group_member_change_function.ts).
 * Concurrent changes of one group apply one after another: the group's row lock is taken first, by a
 * statement of its own, and the change runs after it. Taking the lock inside the writing statement
 * (its version bump) is not enough: under READ COMMITTED a statement's snapshot is taken when it
 * starts, so a statement that waited for the lock still did not see the member rows the lock holder
 * committed meanwhile, and its delete missed them (a remove racing a concurrent add of the same member
 * was lost). Both statements run inside the function, so the lock is never held across a round trip to
 * this process: its hold time is the group's write throughput. The reconcile request names the users
 * added and removed (only their access can change); a group added or removed as a member changes
 * nesting, so then the whole account is asked for. Nothing at all is written when a member to add names
 * no live user or group of this connection: those ids come back in `unknown`. `add` and `remove` must
 * name different ids.
 */
export async function changeGroupMembers(
  db: Executor, scope: ConnectionScope, groupId: string, add: readonly MemberReference[], remove: readonly string[], change: string,
): Promise<{ groupFound: boolean; unknown: string[] }> {
  const { rows: [row] } = await runSql<{ group_found: number; unknown_members: string[] }>(db,
    `select group_found, unknown_members from change_group_members(?, ?, ?::jsonb, ?::uuid[], ?)`,
    [groupId, scope.connectionId, JSON.stringify(add.map((m) => ({ value: m.value, display: m.display ?? null }))), remove, change]);
  return { groupFound: row!.group_found > 0, unknown: row!.unknown_members };
}

/** Adds members (an already present member is left as is); returns how many were new. */
export async function addGroupMembers(db: Executor, scope: ConnectionScope, groupId: string, members: readonly MemberReference[]): Promise<number> {
  if (members.length === 0) return 0;
  const result = await runSql(db, 
    `with ${REQUESTED_MEMBERS_CTES}
     insert into idp_group_members (group_id, member_id, member_type, display)
     select ?, value, member_type, display from found
     on conflict (group_id, member_id) do nothing`,
    [JSON.stringify(members.map((m) => ({ value: m.value, display: m.display ?? null }))), scope.connectionId, scope.connectionId, groupId],
  );
  return result.rowCount;
}

export async function removeGroupMembers(db: Executor, groupId: string, memberIds: readonly string[]): Promise<number> {
  if (memberIds.length === 0) return 0;
  const result = await runSql(db, `delete from idp_group_members where group_id = ? and member_id = any(?::uuid[])`, [groupId, memberIds]);
  return result.rowCount;
}

export async function removeAllGroupMembers(db: Executor, groupId: string): Promise<number> {
  const result = await runSql(db, `delete from idp_group_members where group_id = ?`, [groupId]);
  return result.rowCount;
}

/** Makes the member list exactly `members`: removes the others, adds the new ones. */
export async function replaceGroupMembers(db: Executor, scope: ConnectionScope, groupId: string, members: readonly MemberReference[]): Promise<void> {
  await runSql(db, 
    `delete from idp_group_members where group_id = ? and not (member_id = any(?::uuid[]))`,
    [groupId, members.map((m) => m.value)],
  );
  await addGroupMembers(db, scope, groupId, members);
}
