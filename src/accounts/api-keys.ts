// API keys as Postscale creates them: admins and owners may create organization-wide keys; members
// only keys for domains they can write, and a member's key without explicit domains covers all of them.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { issueToken } from "./secret-token.ts";

export class KeyNotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyNotAllowedError";
  }
}

export interface CreatedKey {
  id: string;
  /** The secret, shown once. */
  key: string;
  scope: "organization" | "domains";
  domainIds: string[];
}

export async function createApiKey(db: Executor, input: { accountId: string; userId: string; name: string; domains?: string[]; organizationWide?: boolean }): Promise<CreatedKey> {
  const { rows: [member] } = await runSql<{ role: string; status: string }>(db,
    `select role, status from memberships where account_id = ? and user_id = ?`, [input.accountId, input.userId]);
  if (!member || member.status !== "active") throw new KeyNotAllowedError("only active members of the account can create keys");
  const isAdmin = member.role === "owner" || member.role === "admin";
  let scope: CreatedKey["scope"] = "domains";
  let domainIds: string[] = [];
  if (input.organizationWide || (isAdmin && !input.domains?.length)) {
    if (!isAdmin) throw new KeyNotAllowedError("only admins and the owner can create organization-wide keys");
    scope = "organization";
  } else {
    const { rows: named } = await runSql<{ id: string; name: string }>(db, `select id, name from sending_domains where account_id = ?`, [input.accountId]);
    const byName = new Map(named.map((d) => [d.name, d.id]));
    const { rows: writable } = await runSql<{ domain_id: string }>(db,
      `select g.domain_id from domain_grants g join memberships m on m.id = g.membership_id where m.account_id = ? and m.user_id = ? and g.access = 'write'`,
      [input.accountId, input.userId]);
    const canWrite = new Set(isAdmin ? named.map((d) => d.id) : writable.map((w) => w.domain_id));
    if (input.domains?.length) {
      for (const name of input.domains) {
        const id = byName.get(name.toLowerCase());
        if (!id || !canWrite.has(id)) throw new KeyNotAllowedError(`no read/write access to ${name}`);
        domainIds.push(id);
      }
    } else domainIds = [...canWrite];
    if (domainIds.length === 0) throw new KeyNotAllowedError("a member can only create keys for domains they can write, and has none");
  }
  const issued = issueToken("key");
  // the key and its domains in one statement: a key never exists without the scope it was given
  const { rows: [key] } = await runSql<{ id: string }>(db,
    `with key as (insert into api_keys (account_id, created_by_user_id, name, token_prefix, secret_hash, scope) values (?, ?, ?, ?, ?, ?) returning id),
     scoped as (insert into api_key_domains (api_key_id, domain_id) select key.id, d from key, unnest(?::uuid[]) as d)
     select id from key`,
    [input.accountId, input.userId, input.name, issued.prefix, issued.hash, scope, domainIds]);
  return { id: key!.id, key: issued.token, scope, domainIds };
}

/** A browser session of a member (what the app creates at sign-in). */
export async function createSession(db: Executor, accountId: string, userId: string, hours = 24): Promise<string> {
  const issued = issueToken("session");
  const { rows: [row] } = await runSql<{ id: string }>(db,
    `insert into sessions (account_id, user_id, token_hash, expires_at) values (?, ?, ?, now() + make_interval(hours => ?)) returning id`,
    [accountId, userId, issued.hash, hours]);
  return row!.id;
}

export async function createInvitation(db: Executor, input: { accountId: string; email: string; role: "admin" | "member"; invitedBy: string | null }): Promise<string> {
  const issued = issueToken("invite");
  const { rows: [row] } = await runSql<{ id: string }>(db,
    `insert into invitations (account_id, email, role, invited_by_user_id, token_hash, expires_at) values (?, ?, ?, ?, ?, now() + interval '7 days') returning id`,
    [input.accountId, input.email, input.role, input.invitedBy, issued.hash]);
  return row!.id;
}
