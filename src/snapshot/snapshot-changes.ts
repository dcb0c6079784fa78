// A change to the snapshot asks for a reconcile of its account, durably: the request row is written
// in the same transaction as the change, so a crash between the SCIM response and the apply loses
// nothing; the reconcile worker picks it up.
import { runSql } from "../db/run-sql.ts";
import type { ConnectionScope, Executor } from "./connection-scope.ts";

export async function recordSnapshotChange(trx: Executor, scope: ConnectionScope, reason: string): Promise<void> {
  await runSql(trx, `insert into reconcile_requests (account_id, reason) values (?, ?)`, [scope.accountId, reason]);
}
