// Operator credentials for the admin API (the CLI's). Hashed like every other token.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { hashToken, issueToken } from "./secret-token.ts";

export interface AdminPrincipal {
  readonly tokenId: string;
  readonly name: string;
}

/** Stores a given token (IDSYNC_ADMIN_TOKEN) if it is not stored yet. */
export async function ensureAdminToken(db: Executor, token: string, name: string): Promise<void> {
  if (token.length < 16) throw new Error("IDSYNC_ADMIN_TOKEN must be at least 16 characters");
  await runSql(db, `insert into admin_tokens (name, token_hash, token_prefix) values (?, ?, ?) on conflict (token_hash) do nothing`,
    [name, hashToken(token), token.slice(0, 8)]);
}

export async function hasAdminTokens(db: Executor): Promise<boolean> {
  const { rowCount } = await runSql(db, `select 1 from admin_tokens where revoked_at is null limit 1`);
  return rowCount > 0;
}

/** Creates a new admin token and returns the secret (shown once). */
export async function createAdminToken(db: Executor, name: string): Promise<string> {
  const issued = issueToken("admin");
  await runSql(db, `insert into admin_tokens (name, token_hash, token_prefix) values (?, ?, ?)`, [name, issued.hash, issued.prefix]);
  return issued.token;
}

export async function verifyAdminToken(db: Executor, token: string): Promise<AdminPrincipal | undefined> {
  const { rows: [row] } = await runSql<{ id: string; name: string }>(db,
    `update admin_tokens set last_used_at = now() where token_hash = ? and revoked_at is null returning id, name`, [hashToken(token)]);
  return row ? { tokenId: row.id, name: row.name } : undefined;
}
