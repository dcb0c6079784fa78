// Directory connections (one IdP feeding one account) and the SCIM tokens that authenticate them.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { ConnectionScope, Executor } from "../snapshot/connection-scope.ts";
import { findAccount } from "./accounts.ts";
import { hashToken, issueToken } from "./secret-token.ts";

export type ConnectionKind = "scim" | "google" | "graph";

export interface Connection {
  id: string;
  account_id: string;
  kind: ConnectionKind;
  name: string;
  status: "active" | "disabled";
  created_at: Date;
}

/** A connection as operators see it: `revoked` once a SCIM connection has no token that still works. */
export interface ListedConnection extends Omit<Connection, "status"> {
  status: Connection["status"] | "revoked";
}

/**
 * The status operators see, as SQL over `directory_connections c`: derived from the tokens when read
 * (not stored), so it cannot drift from what `verifyScimToken` accepts.
 */
export const CONNECTION_STATUS_SQL = `case when c.status = 'active' and c.kind = 'scim' and not exists (
    select 1 from scim_tokens t where t.connection_id = c.id and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()))
  then 'revoked' else c.status end`;

export class ConnectionNotFoundError extends Error {
  constructor(readonly connectionId: string) {
    super(`no connection ${connectionId}`);
    this.name = "ConnectionNotFoundError";
  }
}

/** A SCIM connection's credentials, returned once at creation or rotation. */
export interface IssuedScimToken {
  connection: Connection;
  token: string;
  tokenId: string;
  tokenPrefix: string;
}

async function insertScimToken(db: Executor, connectionId: string): Promise<{ token: string; id: string; prefix: string }> {
  const issued = issueToken("scim");
  const { rows: [row] } = await runSql<{ id: string }>(db,
    `insert into scim_tokens (connection_id, token_hash, token_prefix) values (?, ?, ?) returning id`, [connectionId, issued.hash, issued.prefix]);
  return { token: issued.token, id: row!.id, prefix: issued.prefix };
}

export async function createScimConnection(knex: Knex, accountSlug: string, name: string | undefined, actor: string): Promise<IssuedScimToken> {
  return knex.transaction(async (trx) => {
    const account = await findAccount(trx, accountSlug);
    const { rows: [connection] } = await runSql<Connection>(trx,
      `insert into directory_connections (account_id, kind, name) values (?, 'scim', ?) returning id, account_id, kind, name, status, created_at`,
      [account.id, name ?? `${account.slug} SCIM`]);
    const token = await insertScimToken(trx, connection!.id);
    await writeAudit(trx, { accountId: account.id, actor, action: "connection.created", targetType: "connection", targetId: connection!.id,
      connectionId: connection!.id, after: { kind: "scim", name: connection!.name, tokenPrefix: token.prefix } });
    return { connection: connection!, token: token.token, tokenId: token.id, tokenPrefix: token.prefix };
  });
}

/** The directories idsync pulls from (rather than being pushed to by SCIM). */
export type PulledKind = "google" | "graph";

/**
 * Stores a Google or Graph connection. `settings` must already have passed the source's own check
 * (`checkConnectionConfig` in src/sources/connection-config.ts, which the admin API runs first): the
 * accounts layer stores what the sources stage accepted and never imports that stage.
 */
export async function createPulledConnection(knex: Knex, accountSlug: string, kind: PulledKind, name: string | undefined, settings: unknown, actor: string): Promise<Connection> {
  return knex.transaction(async (trx) => {
    const account = await findAccount(trx, accountSlug);
    const { rows: [connection] } = await runSql<Connection>(trx,
      `insert into directory_connections (account_id, kind, name, config) values (?, ?, ?, ?::jsonb) returning id, account_id, kind, name, status, created_at`,
      [account.id, kind, name ?? `${account.slug} ${kind === "google" ? "Google Workspace" : "Microsoft Graph"}`, JSON.stringify(settings)]);
    await writeAudit(trx, { accountId: account.id, actor, action: "connection.created", targetType: "connection", targetId: connection!.id,
      connectionId: connection!.id, after: { kind, name: connection!.name } });
    return connection!;
  });
}

export async function findConnection(db: Executor, connectionId: string): Promise<Connection> {
  const valid = /^[0-9a-f-]{36}$/i.test(connectionId);
  const { rows: [connection] } = valid
    ? await runSql<Connection>(db, `select id, account_id, kind, name, status, created_at from directory_connections where id = ?`, [connectionId])
    : { rows: [] };
  if (!connection) throw new ConnectionNotFoundError(connectionId);
  return connection;
}

export async function listConnections(db: Executor, accountId: string): Promise<ListedConnection[]> {
  const { rows } = await runSql<ListedConnection>(db,
    `select c.id, c.account_id, c.kind, c.name, ${CONNECTION_STATUS_SQL} as status, c.created_at
     from directory_connections c where c.account_id = ? order by c.created_at`, [accountId]);
  return rows;
}

/**
 * Issues a new SCIM token for a connection. The tokens it had stay valid for `graceMinutes` (0 ends
 * them now), so an IT admin can paste the new one into Okta or Entra without a gap in provisioning.
 */
export async function rotateScimToken(knex: Knex, connectionId: string, graceMinutes: number, actor: string): Promise<IssuedScimToken> {
  return knex.transaction(async (trx) => {
    const connection = await findConnection(trx, connectionId);
    if (connection.kind !== "scim") throw new ConnectionNotFoundError(connectionId);
    await runSql(trx,
      `update scim_tokens set expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(mins => ?))
       where connection_id = ? and revoked_at is null`, [graceMinutes, connectionId]);
    const token = await insertScimToken(trx, connectionId);
    await writeAudit(trx, { accountId: connection.account_id, actor, action: "scim_token.rotated", targetType: "connection", targetId: connectionId,
      connectionId, after: { tokenPrefix: token.prefix, previousTokensExpireInMinutes: graceMinutes } });
    return { connection, token: token.token, tokenId: token.id, tokenPrefix: token.prefix };
  });
}

/** Revokes every still-valid token of a connection at once: its IdP can no longer write. Returns how many. */
export async function revokeScimTokens(knex: Knex, connectionId: string, actor: string): Promise<number> {
  return knex.transaction(async (trx) => {
    const connection = await findConnection(trx, connectionId);
    const { rowCount } = await runSql(trx, `update scim_tokens set revoked_at = now()
       where connection_id = ? and revoked_at is null and (expires_at is null or expires_at > now())`, [connectionId]);
    await writeAudit(trx, { accountId: connection.account_id, actor, action: "scim_token.revoked", targetType: "connection", targetId: connectionId,
      connectionId, after: { revoked: rowCount } });
    return rowCount;
  });
}

/** The scope a SCIM token grants, plus the token's id. */
export interface ScimPrincipal extends ConnectionScope {
  readonly tokenId: string;
}

const LAST_USED_RESOLUTION_MS = 60_000;
const lastUsedWritten = new Map<string, number>();

/** A verified token's principal and when the token stops working by itself (null: only by revocation). */
export interface VerifiedScimToken {
  readonly principal: ScimPrincipal;
  readonly expiresAt: Date | null;
}

/**
 * Resolves a presented SCIM token to its connection and account, or undefined (unknown, revoked,
 * expired, or its connection disabled). Marks the token used at most once a minute, off the request
 * path. The SCIM endpoint asks through its ScimTokenCache (scim-token-cache.ts), not directly.
 */
export async function verifyScimToken(db: Executor, token: string): Promise<VerifiedScimToken | undefined> {
  const { rows: [row] } = await runSql<{ token_id: string; connection_id: string; account_id: string; expires_at: Date | null }>(db,
    `select t.id as token_id, c.id as connection_id, c.account_id, t.expires_at from scim_tokens t join directory_connections c on c.id = t.connection_id
     where t.token_hash = ? and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and c.status = 'active' and c.kind = 'scim'`,
    [hashToken(token)]);
  if (!row) return undefined;
  const now = Date.now();
  if ((lastUsedWritten.get(row.token_id) ?? 0) < now - LAST_USED_RESOLUTION_MS) {
    lastUsedWritten.set(row.token_id, now);
    runSql(db, `update scim_tokens set last_used_at = now() where id = ?`, [row.token_id]).catch(() => lastUsedWritten.delete(row.token_id));
  }
  return { principal: { tokenId: row.token_id, connectionId: row.connection_id, accountId: row.account_id }, expiresAt: row.expires_at };
}
