// The audit trail: one append-only row per change, written in the same transaction as the change.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";

export interface AuditEntry {
  accountId: string;
  /** Who caused it: `operator:<token name>`, `scim:<connection id>`, `reconciler`. */
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
  connectionId?: string | null;
  rule?: string | null;
  runId?: string | null;
}

export async function writeAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await runSql(db,
    `insert into audit_log (account_id, actor, action, target_type, target_id, before, after, connection_id, rule, run_id)
     values (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)`,
    [entry.accountId, entry.actor, entry.action, entry.targetType, entry.targetId ?? null,
      entry.before === undefined ? null : JSON.stringify(entry.before), entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.connectionId ?? null, entry.rule ?? null, entry.runId ?? null]);
}
