// Everything the IdPs of one account said, as plain data for the mapping stage.
import { runSql } from "../db/run-sql.ts";
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

/** Loads an account's snapshot: live and tombstoned users (a tombstone means "deleted"), live groups. */
export async function loadAccountSnapshot(db: Executor, accountId: string): Promise<AccountSnapshot> {
  const users = await runSql(db,
    `select u.id, u.connection_id, u.user_name, u.email, u.display_name, u.active, u.deleted_at is not null as deleted, u.resource
     from idp_users u join directory_connections c on c.id = u.connection_id
     where u.account_id = ? and c.status = 'active'`, [accountId]);
  const groups = await runSql(db,
    `select g.id, g.connection_id, g.source_id, g.external_id, g.display_name, g.email
     from idp_groups g join directory_connections c on c.id = g.connection_id
     where g.account_id = ? and g.deleted_at is null and c.status = 'active'`, [accountId]);
  const edges = await runSql(db,
    `select m.group_id, m.member_id from idp_group_members m join idp_groups g on g.id = m.group_id
     where g.account_id = ? and g.deleted_at is null`, [accountId]);
  return {
    users: users.rows.map((r) => ({ id: r.id, connectionId: r.connection_id, userName: r.user_name, email: r.email, displayName: r.display_name,
      active: r.active, deleted: r.deleted, resource: r.resource })),
    groups: groups.rows.map((r) => ({ id: r.id, connectionId: r.connection_id, sourceId: r.source_id, externalId: r.external_id,
      displayName: r.display_name, email: r.email })),
    edges: edges.rows.map((r) => ({ groupId: r.group_id, memberId: r.member_id })),
  };
}
