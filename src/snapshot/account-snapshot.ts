// Everything the IdPs of one account said, as plain data for the mapping stage.
import { runSql } from "../db/run-sql.ts";
import { oneCopyEach } from "../db/one-copy-each.ts";
import type { Executor } from "./connection-scope.ts";

export interface SnapshotUser {
  /** The snapshot row id: stable for the IdP user's life (the IdP's immutable id maps to it). */
  readonly id: string;
  readonly connectionId: string;
  readonly userName: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly active: boolean;
  readonly deleted: boolean;
  readonly resource: Record<string, unknown>;
}

export interface SnapshotGroup {
  readonly id: string;
  readonly connectionId: string;
  readonly sourceId: string;
  readonly externalId: string | null;
  readonly displayName: string;
  readonly email: string | null;
}

/** A direct membership: `memberId` (a user or a group) is in `groupId`. */
export interface SnapshotEdge {
  readonly groupId: string;
  readonly memberId: string;
}

export interface AccountSnapshot {
  readonly users: readonly SnapshotUser[];
  readonly groups: readonly SnapshotGroup[];
  readonly edges: readonly SnapshotEdge[];
}

/**
 * Live groups and the group-in-group edges: small next to users and their memberships. With `named`,
 * only the groups those selectors name (by our id, the IdP's id, externalId, display name or email, as
 * group-selector.ts matches): all a plan needs, since a user's other groups matter only through the
 * edges, which are loaded whole. A one-person reconcile then reads the account's rule groups, not its
 * thousands of groups.
 */
export async function loadSnapshotGroups(db: Executor, accountId: string, named?: readonly string[]): Promise<{ groups: SnapshotGroup[]; groupEdges: SnapshotEdge[] }> {
  const lower = named?.map((n) => n.toLowerCase());
  const groups = await runSql(db,
    `select g.id, g.connection_id, g.source_id, g.external_id, g.display_name, g.email
     from idp_groups g join directory_connections c on c.id = g.connection_id
     where g.account_id = ? and g.deleted_at is null and c.status = 'active'${named ? `
       and (g.id::text = any(?::text[]) or g.source_id = any(?::text[]) or g.external_id = any(?::text[])
         or lower(g.display_name) = any(?::text[]) or lower(g.email) = any(?::text[]))` : ""}`,
    named ? [accountId, named, named, named, lower, lower] : [accountId]);
  const edges = await runSql(db,
    `select m.group_id, m.member_id from idp_group_members m join idp_groups g on g.id = m.group_id
     where g.account_id = ? and g.deleted_at is null and m.member_type = 'Group'`, [accountId]);
  return {
    groups: groups.rows.map((r) => ({ id: r.id, connectionId: r.connection_id, sourceId: r.source_id, externalId: r.external_id,
      displayName: r.display_name, email: r.email })),
    groupEdges: edges.rows.map((r) => ({ groupId: r.group_id, memberId: r.member_id })),
  };
}

/**
 * Live and tombstoned users (a tombstone means "deleted") with their direct group memberships; `only`
 * restricts both to some users (a scoped reconcile), `inGroups` the memberships to some groups (those
 * the rules can see: a plan of 100,000 users in 5,000 groups then reads thousands of edges, not 500,000);
 * `leaveOut` names resource attributes left out of the resource.
 */
export async function loadSnapshotUsers(db: Executor, accountId: string, only?: readonly string[], inGroups?: Iterable<string>,
  leaveOut: readonly string[] = []): Promise<{ users: SnapshotUser[]; userEdges: SnapshotEdge[] }> {
  // `leaveOut`: top-level attributes of the resource nobody will read (the user's columns hold what the planner needs of them)
  const users = await runSql(db,
    `select u.id, u.connection_id, u.user_name, u.email, u.display_name, u.active, u.deleted_at is not null as deleted, u.resource - ?::text[] as resource
     from idp_users u join directory_connections c on c.id = u.connection_id
     where u.account_id = ? and c.status = 'active'${only ? " and u.id = any(?::uuid[])" : ""}`, only ? [[...leaveOut], accountId, only] : [[...leaveOut], accountId]);
  const groups = inGroups === undefined ? undefined : [...inGroups];
  const edges = groups?.length === 0 ? { rows: [] } : await runSql(db,
    `select m.group_id, m.member_id from idp_group_members m join idp_groups g on g.id = m.group_id
     where g.account_id = ? and g.deleted_at is null and m.member_type = 'User'${only ? " and m.member_id = any(?::uuid[])" : ""}${groups ? " and m.group_id = any(?::uuid[])" : ""}`,
    [accountId, ...(only ? [only] : []), ...(groups ? [groups] : [])]);
  // the connection's id once, not a copy per row, and the userName's string for an email equal to it:
  // a 1M-user snapshot holds ~110 MiB less for the whole plan
  const once = oneCopyEach();
  return {
    users: users.rows.map((r) => ({ id: r.id, connectionId: once(r.connection_id), userName: r.user_name, email: r.email === r.user_name ? r.user_name : r.email,
      displayName: r.display_name, active: r.active, deleted: r.deleted, resource: r.resource })),
    userEdges: edges.rows.map((r) => ({ groupId: r.group_id, memberId: r.member_id })),
  };
}

/** An account's snapshot, or (with `only`) the part of it some users make up, with every group. */
export async function loadAccountSnapshot(db: Executor, accountId: string, only?: readonly string[]): Promise<AccountSnapshot> {
  // one after another: a transaction is one connection, which runs one query at a time
  const { groups, groupEdges } = await loadSnapshotGroups(db, accountId);
  const { users, userEdges } = await loadSnapshotUsers(db, accountId, only);
  return { users, groups, edges: [...groupEdges, ...userEdges] };
}
