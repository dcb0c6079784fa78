// Storing an account's rules document: validated first (nothing invalid is ever stored), audited.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { parseRulesDocument } from "../mapping/rules-document.ts";
import type { MappingRules } from "../mapping/mapping-rules.ts";
import { writeAudit } from "../audit/audit-log.ts";

/** Stores the rules, their audit row and a reconcile request in one transaction; throws RulesDocumentError (every problem with its line) first when the document is not valid. */
export async function saveRules(knex: Knex, accountId: string, document: string, actor: string): Promise<{ rules: MappingRules; version: number }> {
  const rules = parseRulesDocument(document);
  return knex.transaction((trx) => storeRules(trx, accountId, document, rules, actor));
}

async function storeRules(db: Executor, accountId: string, document: string, rules: MappingRules, actor: string): Promise<{ rules: MappingRules; version: number }> {
  const { rows: [row] } = await runSql<{ version: number }>(db,
    `insert into account_rules (account_id, document, updated_by) values (?, ?, ?)
     on conflict (account_id) do update set document = excluded.document, version = account_rules.version + 1, updated_at = now(), updated_by = excluded.updated_by
     returning version`, [accountId, document, actor]);
  await writeAudit(db, { accountId, actor, action: "rules.updated", targetType: "rules", targetId: accountId, after: { version: row!.version, rules: rules.rules.length } });
  await runSql(db, `insert into reconcile_requests (account_id, reason) values (?, 'rules changed')`, [accountId]);
  return { rules, version: row!.version };
}

export async function getRulesDocument(db: Executor, accountId: string): Promise<{ document: string; version: number } | undefined> {
  const { rows: [row] } = await runSql<{ document: string; version: number }>(db, `select document, version from account_rules where account_id = ?`, [accountId]);
  return row;
}
