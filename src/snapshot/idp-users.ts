// The snapshot's users: what an IdP said about each person, keyed on its immutable id.
// Statements that find rows by a key of their own index (id, userName, …) compare the connection as
// text (`connection_id::text = ?`): no index serves that form, so the planner cannot pick an index
// that leads with connection_id instead. On a never-analyzed table (after a bulk push; PGlite until
// idsync's ANALYZE) every such partial index is estimated at one row and they tie with the right one;
// the paging index won, and each lookup read every row of the connection.
import { randomUUID } from "node:crypto";
import { runSql } from "../db/run-sql.ts";
import { listPage, type ConnectionScope, type Executor, type ListQuery } from "./connection-scope.ts";
import { USER_RECONCILE_REQUEST_CTE } from "./snapshot-changes.ts";

/** The indexed facts of a user plus the whole resource as the IdP sent it. */
export interface IdpUserFields {
  readonly externalId: string | null;
  readonly userName: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly active: boolean;
  readonly resource: Record<string, unknown>;
}

export interface IdpUserRow {
  id: string;
  connection_id: string;
  account_id: string;
  source_id: string;
  external_id: string | null;
  user_name: string;
  display_name: string | null;
  email: string | null;
  active: boolean;
  resource: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "u.id, u.connection_id, u.account_id, u.source_id, u.external_id, u.user_name, u.display_name, u.email, u.active, u.resource, u.version, u.created_at, u.updated_at";
const RETURNING = COLUMNS.replaceAll("u.", "");

/**
 * Inserts a user; `sourceId` defaults to the new id (SCIM, where our id is the one the IdP keeps).
 * With `change`, a reconcile request is written by the same statement (atomic, one round trip).
 */
export async function insertIdpUser(db: Executor, scope: ConnectionScope, fields: IdpUserFields, sourceId?: string, change?: string): Promise<IdpUserRow> {
  const id = randomUUID();
  const result = await runSql(db,
    `with written as (
       insert into idp_users (id, connection_id, account_id, source_id, external_id, user_name, display_name, email, active, resource)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) returning ${RETURNING})${change === undefined ? "" : `, ${USER_RECONCILE_REQUEST_CTE}`}
     select * from written`,
    [id, scope.connectionId, scope.accountId, sourceId ?? id, fields.externalId, fields.userName, fields.displayName,
      fields.email, fields.active, JSON.stringify(fields.resource), ...(change === undefined ? [] : [change])],
  );
  return result.rows[0];
}

/** Replaces a live user's fields (with `change`, requesting a reconcile in the same statement); undefined when absent. */
export async function replaceIdpUser(db: Executor, scope: ConnectionScope, id: string, fields: IdpUserFields, change?: string): Promise<IdpUserRow | undefined> {
  const result = await runSql(db,
    `with written as (
       update idp_users set external_id = ?, user_name = ?, display_name = ?, email = ?, active = ?, resource = ?::jsonb,
         version = version + 1, updated_at = now()
       where id = ? and connection_id::text = ? and deleted_at is null returning ${RETURNING})${change === undefined ? "" : `, ${USER_RECONCILE_REQUEST_CTE}`}
     select * from written`,
    [fields.externalId, fields.userName, fields.displayName, fields.email, fields.active, JSON.stringify(fields.resource),
      id, scope.connectionId, ...(change === undefined ? [] : [change])],
  );
  return result.rows[0];
}

/**
 * A live user by id; `lock` takes a row lock until the transaction ends (serialises PATCHes).
 * The connection is compared as text (see LOOKUPS): only the primary key can serve the statement.
 */
export async function findIdpUser(db: Executor, scope: ConnectionScope, id: string, lock = false): Promise<IdpUserRow | undefined> {
  const result = await runSql(db,
    `select ${COLUMNS} from idp_users u where u.id = ? and u.connection_id::text = ? and u.deleted_at is null${lock ? " for update" : ""}`,
    [id, scope.connectionId],
  );
  return result.rows[0];
}

/** The attributes a SCIM client looks a user up by (`<attribute> eq "value"`), as SQL over the index that leads with it. */
const LOOKUPS = {
  id: "u.id = ?::uuid",
  userName: "lower(u.user_name) = lower(?)",
  externalId: "u.external_id = ?",
} as const;
export type UserLookup = keyof typeof LOOKUPS;
export const USER_LOOKUPS = Object.keys(LOOKUPS) as UserLookup[];

/**
 * The live users of the connection whose attribute equals `value` (userName ignoring case), oldest
 * first: Okta's and Entra's lookup before every create. Planned right without statistics: the
 * connection is compared as text, which no index serves, so the one index that leads with the
 * looked-up value (primary key, idp_users_user_name_key, idp_users_external_id) is the only index the
 * planner can use. With `connection_id = ?` every partial index leading with connection_id applies,
 * and on a never-analyzed table all of them are estimated at one row: it picked the paging index and
 * read every user of the connection. `id` must be a UUID (the caller answers "no match" otherwise).
 */
export async function findIdpUsersBy(db: Executor, scope: ConnectionScope, attribute: UserLookup, value: string): Promise<IdpUserRow[]> {
  const result = await runSql<IdpUserRow>(db,
    `select ${COLUMNS} from idp_users u where ${LOOKUPS[attribute]} and u.connection_id::text = ? and u.deleted_at is null order by u.created_at, u.id`,
    [value, scope.connectionId]);
  return result.rows;
}

export function listIdpUsers(db: Executor, scope: ConnectionScope, query: ListQuery): Promise<{ rows: IdpUserRow[]; total: number }> {
  return listPage<IdpUserRow>(db, "idp_users", "u", COLUMNS, scope, query);
}

/** Deletes a user, leaving a tombstone (the reconciler must see "deleted"), and drops its group memberships. */
export async function tombstoneIdpUser(db: Executor, scope: ConnectionScope, id: string): Promise<boolean> {
  const result = await runSql(db, 
    `update idp_users set deleted_at = now(), updated_at = now(), version = version + 1
     where id = ? and connection_id::text = ? and deleted_at is null returning id`,
    [id, scope.connectionId],
  );
  if (result.rows.length === 0) return false;
  await runSql(db, 
    `delete from idp_group_members m using idp_groups g where m.member_id = ? and g.id = m.group_id and g.connection_id::text = ?`,
    [id, scope.connectionId],
  );
  return true;
}
