// A change to the snapshot asks for a reconcile of its account, durably: the request row is written
// atomically with the change (same transaction, or same statement), so a crash between the SCIM
// response and the apply loses nothing; the reconcile worker picks it up.
import { runSql } from "../db/run-sql.ts";
import type { ConnectionScope, Executor } from "./connection-scope.ts";

export async function recordSnapshotChange(trx: Executor, scope: ConnectionScope, reason: string): Promise<void> {
  await runSql(trx, `insert into reconcile_requests (account_id, reason) values (?, ?)`, [scope.accountId, reason]);
}

/**
 * The same request as a data-modifying CTE, for single-statement writes: one request per row the
 * statement wrote (CTE `written`, with account_id and id), its reason `?` followed by the row id.
 */
export const RECONCILE_REQUEST_CTE = `reconcile_request as (insert into reconcile_requests (account_id, reason) select account_id, ? || id from written)`;
