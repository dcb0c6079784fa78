// A pull that was aborted or failed is an open alert until a run of that connection succeeds: the
// status page and /metrics show it, and nobody has to read run histories to notice a stuck directory.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

export async function raisePullAlert(db: Knex, accountId: string, connectionId: string, runId: string, status: string, message: string): Promise<void> {
  await runSql(db,
    `insert into alerts (account_id, kind, detail, data, run_id)
     select ?, 'pull_' || ?, ?, ?::jsonb, ? where not exists (
       select 1 from alerts where account_id = ? and kind like 'pull\\_%' and data ->> 'connectionId' = ? and resolved_at is null)`,
    [accountId, status, `connection ${connectionId}: pull ${status}: ${message}`.slice(0, 1000), JSON.stringify({ connectionId }), runId, accountId, connectionId]);
}

export async function resolvePullAlerts(db: Knex, accountId: string, connectionId: string): Promise<void> {
  await runSql(db, `update alerts set resolved_at = now() where account_id = ? and kind like 'pull\\_%' and data ->> 'connectionId' = ? and resolved_at is null`,
    [accountId, connectionId]);
}
