// A change to the snapshot asks for a reconcile of its account, durably: the request row is written
// atomically with the change (same transaction, or same statement), so a crash between the SCIM
// response and the apply loses nothing; the reconcile worker picks it up. A request names the IdP
// users the change affects, so the worker reconciles those people; null means the whole account.
import { runSql } from "../db/run-sql.ts";
import type { ConnectionScope, Executor } from "./connection-scope.ts";

/** `idpUserIds` null: the change may affect anyone (a group renamed, deleted or re-nested). */
export async function recordSnapshotChange(trx: Executor, scope: ConnectionScope, reason: string, idpUserIds: readonly string[] | null): Promise<void> {
  await runSql(trx, `insert into reconcile_requests (account_id, reason, idp_user_ids) values (?, ?, ?::uuid[])`,
    [scope.accountId, reason, idpUserIds === null ? null : [...idpUserIds]]);
}

/**
 * The same request as a data-modifying CTE, for single-statement writes: one request per row the
 * statement wrote (CTE `written`, with account_id and id), its reason `?` followed by the row id, and
 * the affected IdP users as the SQL expression `affected` (evaluated per written row; null = everyone).
 */
export function reconcileRequestCte(affected: string): string {
  return `reconcile_request as (insert into reconcile_requests (account_id, reason, idp_user_ids) select account_id, ? || id, ${affected} from written)`;
}

/** For writes of users: each request names the user written. */
export const USER_RECONCILE_REQUEST_CTE = reconcileRequestCte("array[id]");

/** Whether a change naming this IdP user still waits for the reconcile worker (a departure not yet applied). */
export async function hasPendingChange(db: Executor, scope: ConnectionScope, idpUserId: string): Promise<boolean> {
  const { rows: [row] } = await runSql<{ yes: boolean }>(db,
    `select exists (select 1 from reconcile_requests where account_id = ? and processed_at is null and ?::uuid = any(idp_user_ids)) as yes`,
    [scope.accountId, idpUserId]);
  return row!.yes;
}
