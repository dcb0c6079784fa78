// Writes what a directory pull read into its connection's snapshot, set-based, inside the caller's
// transaction. A full pull is mark-and-sweep: everything it listed is upserted, everything it did not
// list becomes a tombstone (never a hard delete), and group memberships become exactly what it read.
// A departure check or a delta only touches what it names. Each write returns the IdP users whose
// snapshot changed, so the reconcile can be scoped to them (null: nesting changed, reconcile everyone).
import { runSql } from "../db/run-sql.ts";
import { runChunked } from "../db/chunked-json.ts";
import type { ConnectionScope, Executor } from "./connection-scope.ts";
import type { PulledGroup, PulledMembership, PulledUser } from "./pulled-directory.ts";

export interface SnapshotWrite {
  /** Snapshot ids of users whose row or direct memberships changed; null when the whole account may be affected. */
  readonly affectedUserIds: string[] | null;
  readonly counts: { usersWritten: number; usersTombstoned: number; groupsWritten: number; groupsTombstoned: number; membershipsAdded: number; membershipsRemoved: number };
}

/** Inserts or updates users by the IdP's immutable id; returns the snapshot ids of the rows that changed. */
export async function upsertPulledUsers(db: Executor, scope: ConnectionScope, users: readonly PulledUser[], runId: string | null): Promise<string[]> {
  const rows = await runChunked(db,
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, display_name, email, active, resource, last_run_id)
     select gen_random_uuid(), ?, ?, r.source_id, r.user_name, r.display_name, r.email, r.active, r.resource, ?
     from jsonb_to_recordset(?::jsonb) as r(source_id text, user_name text, display_name text, email text, active boolean, resource jsonb)
     on conflict (connection_id, source_id) do update set user_name = excluded.user_name, display_name = excluded.display_name,
       email = excluded.email, active = excluded.active, resource = excluded.resource, deleted_at = null, last_run_id = excluded.last_run_id,
       version = idp_users.version + 1, updated_at = now()
     where (idp_users.user_name, idp_users.display_name, idp_users.email, idp_users.active, idp_users.resource, idp_users.deleted_at is null)
       is distinct from (excluded.user_name, excluded.display_name, excluded.email, excluded.active, excluded.resource, true)
     returning id`,
    users.map((u) => ({ source_id: u.sourceId, user_name: u.userName, display_name: u.displayName, email: u.email, active: u.active, resource: u.resource })),
    (json) => [scope.connectionId, scope.accountId, runId, json]);
  return rows.map((r) => r.id as string);
}

/** Tombstones live users by IdP id (deleted in the directory); returns their snapshot ids. */
export async function tombstoneUsers(db: Executor, scope: ConnectionScope, sourceIds: readonly string[], runId: string | null): Promise<string[]> {
  if (sourceIds.length === 0) return [];
  const { rows } = await runSql<{ id: string }>(db,
    `update idp_users set deleted_at = now(), last_run_id = ?, version = version + 1, updated_at = now()
     where connection_id = ? and deleted_at is null and source_id = any(?::text[]) returning id`, [runId, scope.connectionId, [...sourceIds]]);
  return rows.map((r) => r.id);
}

/** Marks live users inactive by IdP id (soft-deleted, suspended); returns the snapshot ids that changed. */
export async function deactivateUsers(db: Executor, scope: ConnectionScope, sourceIds: readonly string[], runId: string | null): Promise<string[]> {
  if (sourceIds.length === 0) return [];
  const { rows } = await runSql<{ id: string }>(db,
    `update idp_users set active = false, resource = resource || '{"active": false}'::jsonb, last_run_id = ?, version = version + 1, updated_at = now()
     where connection_id = ? and deleted_at is null and active and source_id = any(?::text[]) returning id`, [runId, scope.connectionId, [...sourceIds]]);
  return rows.map((r) => r.id);
}

async function upsertGroups(db: Executor, scope: ConnectionScope, groups: readonly PulledGroup[], runId: string | null): Promise<number> {
  const rows = await runChunked(db,
    `insert into idp_groups (id, connection_id, account_id, source_id, display_name, email, resource, last_run_id)
     select gen_random_uuid(), ?, ?, r.source_id, r.display_name, r.email, r.resource, ?
     from jsonb_to_recordset(?::jsonb) as r(source_id text, display_name text, email text, resource jsonb)
     on conflict (connection_id, source_id) do update set display_name = excluded.display_name, email = excluded.email,
       resource = excluded.resource, deleted_at = null, last_run_id = excluded.last_run_id, version = idp_groups.version + 1, updated_at = now()
     where (idp_groups.display_name, idp_groups.email, idp_groups.resource, idp_groups.deleted_at is null)
       is distinct from (excluded.display_name, excluded.email, excluded.resource, true)
     returning id`,
    groups.map((g) => ({ source_id: g.sourceId, display_name: g.displayName, email: g.email, resource: g.resource })),
    (json) => [scope.connectionId, scope.accountId, runId, json]);
  return rows.length;
}

export async function tombstoneGroups(db: Executor, scope: ConnectionScope, where: string, bindings: unknown[]): Promise<number> {
  const { rowCount } = await runSql(db,
    `with gone as (update idp_groups set deleted_at = now(), version = version + 1, updated_at = now()
       where connection_id = ? and deleted_at is null and ${where} returning id)
     , members as (delete from idp_group_members where group_id in (select id from gone))
     select 1 from gone`, [scope.connectionId, ...bindings]);
  return rowCount;
}

/** Memberships named by IdP ids, resolved to snapshot ids (rows naming nobody live are dropped). */
async function stageMemberships(db: Executor, scope: ConnectionScope, table: string, memberships: readonly PulledMembership[]): Promise<void> {
  await runSql(db, `create temp table ${table} (group_id uuid, member_id uuid, member_type text) on commit drop`);
  await runChunked(db,
    `insert into ${table} (group_id, member_id, member_type)
     select g.id, coalesce(u.id, sg.id), r.member_type
     from jsonb_to_recordset(?::jsonb) as r(group_source text, member_source text, member_type text)
     join idp_groups g on g.connection_id = ? and g.source_id = r.group_source and g.deleted_at is null
     left join idp_users u on r.member_type = 'User' and u.connection_id = ? and u.source_id = r.member_source and u.deleted_at is null
     left join idp_groups sg on r.member_type = 'Group' and sg.connection_id = ? and sg.source_id = r.member_source and sg.deleted_at is null
     where coalesce(u.id, sg.id) is not null`,
    memberships.map((m) => ({ group_source: m.groupSourceId, member_source: m.memberSourceId, member_type: m.memberType })),
    (json) => [json, scope.connectionId, scope.connectionId, scope.connectionId]);
}

interface MemberChange { member_id: string; member_type: string }

async function addStaged(db: Executor, table: string): Promise<MemberChange[]> {
  const { rows } = await runSql<MemberChange>(db,
    `insert into idp_group_members (group_id, member_id, member_type) select distinct group_id, member_id, member_type from ${table}
     on conflict (group_id, member_id) do nothing returning member_id, member_type`);
  return rows;
}

/** Users and nesting changed by membership changes: any group-in-group change affects everyone. */
function affectedBy(changes: readonly MemberChange[], users: string[]): string[] | null {
  if (changes.some((c) => c.member_type === "Group")) return null;
  return [...users, ...changes.map((c) => c.member_id)];
}

/** A full pull: the connection's snapshot becomes exactly what was read (mark-and-sweep, tombstones). */
export async function replaceConnectionSnapshot(db: Executor, scope: ConnectionScope,
  pull: { users: readonly PulledUser[]; groups: readonly PulledGroup[]; memberships: readonly PulledMembership[] }, runId: string | null): Promise<SnapshotWrite> {
  // tombstones first: a user re-created with a reused email must not collide with the old live row
  const listed = pull.users.map((u) => u.sourceId);
  const { rows: gone } = await runSql<{ id: string }>(db,
    `update idp_users set deleted_at = now(), last_run_id = ?, version = version + 1, updated_at = now()
     where connection_id = ? and deleted_at is null and not (source_id = any(?::text[])) returning id`, [runId, scope.connectionId, listed]);
  const written = await upsertPulledUsers(db, scope, pull.users, runId);
  const groupsTombstoned = await tombstoneGroups(db, scope, `not (source_id = any(?::text[]))`, [pull.groups.map((g) => g.sourceId)]);
  const groupsWritten = await upsertGroups(db, scope, pull.groups, runId);
  await stageMemberships(db, scope, "pulled_memberships", pull.memberships);
  const { rows: removed } = await runSql<MemberChange>(db,
    `delete from idp_group_members m using idp_groups g
     where g.id = m.group_id and g.connection_id = ?
       and not exists (select 1 from pulled_memberships p where p.group_id = m.group_id and p.member_id = m.member_id)
     returning m.member_id, m.member_type`, [scope.connectionId]);
  const added = await addStaged(db, "pulled_memberships");
  const changedNesting = groupsTombstoned > 0 || groupsWritten > 0;
  const users = affectedBy([...added, ...removed], [...gone.map((r) => r.id), ...written]);
  return {
    affectedUserIds: changedNesting ? null : users,
    counts: { usersWritten: written.length, usersTombstoned: gone.length, groupsWritten, groupsTombstoned, membershipsAdded: added.length, membershipsRemoved: removed.length },
  };
}

/** A delta: upserts what changed, applies the removals it names, adds and removes the memberships it lists. */
export async function applySnapshotDelta(db: Executor, scope: ConnectionScope, delta: {
  changedUsers: readonly PulledUser[]; deletedUserSourceIds: readonly string[]; deactivatedUserSourceIds: readonly string[];
  changedGroups: readonly PulledGroup[]; removedGroupSourceIds: readonly string[];
  addedMemberships: readonly PulledMembership[]; removedMemberships: readonly PulledMembership[];
}, runId: string | null): Promise<SnapshotWrite> {
  const tombstoned = await tombstoneUsers(db, scope, delta.deletedUserSourceIds, runId);
  const deactivated = await deactivateUsers(db, scope, delta.deactivatedUserSourceIds, runId);
  const written = await upsertPulledUsers(db, scope, delta.changedUsers, runId);
  const groupsTombstoned = delta.removedGroupSourceIds.length === 0 ? 0
    : await tombstoneGroups(db, scope, `source_id = any(?::text[])`, [[...delta.removedGroupSourceIds]]);
  const groupsWritten = await upsertGroups(db, scope, delta.changedGroups, runId);
  await stageMemberships(db, scope, "removed_memberships", delta.removedMemberships);
  const { rows: removed } = await runSql<MemberChange>(db,
    `delete from idp_group_members m using removed_memberships r where m.group_id = r.group_id and m.member_id = r.member_id
     returning m.member_id, m.member_type`);
  await stageMemberships(db, scope, "added_memberships", delta.addedMemberships);
  const added = await addStaged(db, "added_memberships");
  const users = affectedBy([...added, ...removed], [...tombstoned, ...deactivated, ...written]);
  return {
    affectedUserIds: groupsTombstoned > 0 || groupsWritten > 0 ? null : users,
    counts: { usersWritten: written.length + deactivated.length, usersTombstoned: tombstoned.length, groupsWritten, groupsTombstoned,
      membershipsAdded: added.length, membershipsRemoved: removed.length },
  };
}

/** Active live users and direct memberships of the connection: what the drop check compares. */
export async function countConnectionSnapshot(db: Executor, scope: ConnectionScope): Promise<{ users: number; memberships: number }> {
  const { rows: [row] } = await runSql<{ users: number; memberships: number }>(db,
    `select (select count(*)::int from idp_users where connection_id = ? and deleted_at is null and active) as users,
            (select count(*)::int from idp_group_members m join idp_groups g on g.id = m.group_id where g.connection_id = ? and g.deleted_at is null) as memberships`,
    [scope.connectionId, scope.connectionId]);
  return row!;
}
