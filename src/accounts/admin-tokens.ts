// Operator credentials for the admin API (the CLI's). Hashed like every other token.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { hashToken, issueToken, tokenKindOf, type TokenKind } from "./secret-token.ts";

export interface AdminPrincipal {
  readonly tokenId: string;
  readonly name: string;
}

/** IDSYNC_ADMIN_TOKEN is too short to be a secret worth accepting. */
export class AdminTokenTooShortError extends Error {
  constructor(readonly minimum: number) {
    super(`IDSYNC_ADMIN_TOKEN must be at least ${minimum} characters`);
    this.name = "AdminTokenTooShortError";
  }
}

const MIN_GIVEN_TOKEN_LENGTH = 16;

/** Stores a given token (IDSYNC_ADMIN_TOKEN) if it is not stored yet. */
export async function ensureAdminToken(db: Executor, token: string, name: string): Promise<void> {
  if (token.length < MIN_GIVEN_TOKEN_LENGTH) throw new AdminTokenTooShortError(MIN_GIVEN_TOKEN_LENGTH);
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

const OTHER_KINDS: Record<Exclude<TokenKind, "admin">, string> = {
  scim: "a SCIM token",
  key: "an API key",
  session: "a session token",
  invite: "an invitation token",
};

/**
 * Why a bearer token was refused as an admin token, for the 401's detail. A token of another kind is
 * named by its prefix alone (never looked up: the answer says nothing about whether it is valid), so an
 * operator who pasted the SCIM token where the admin token goes learns that at once.
 */
export function adminTokenRefusal(token: string | undefined): string {
  if (!token) return "An admin token is required (Authorization: Bearer <IDSYNC_ADMIN_TOKEN>)";
  const kind = tokenKindOf(token);
  if (kind && kind !== "admin") {
    return `This is ${OTHER_KINDS[kind]}, not an admin token: the admin API takes the admin token idsync printed at its first start, or IDSYNC_ADMIN_TOKEN`;
  }
  return "This is not a valid admin token (unknown or revoked): use the admin token idsync printed at its first start, or IDSYNC_ADMIN_TOKEN";
}
