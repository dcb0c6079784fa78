// Accounts (organizations) and their sending domains, as operators create them.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { Executor } from "../snapshot/connection-scope.ts";

export interface Account {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

export interface AccountSummary extends Account {
  domains: string[];
  owner_email: string | null;
}

export class AccountNotFoundError extends Error {
  constructor(readonly slug: string) {
    super(`no account "${slug}"`);
    this.name = "AccountNotFoundError";
  }
}

export class InvalidAccountInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidAccountInputError";
  }
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export interface NewAccount {
  slug: string;
  name?: string;
  domains: string[];
  /** The account's owner (every Postscale account has one); created as an app user if new. */
  ownerEmail?: string;
}

/** Creates an account with its domains (and owner) in one transaction, audited. */
export async function createAccount(knex: Knex, input: NewAccount, actor: string): Promise<AccountSummary> {
  const slug = input.slug.trim().toLowerCase();
  if (!SLUG.test(slug)) throw new InvalidAccountInputError(`"${input.slug}" is not a valid account slug (lowercase letters, digits and dashes, at most 63)`);
  const domains = [...new Set(input.domains.map((d) => d.trim().toLowerCase()))];
  for (const d of domains) if (!DOMAIN.test(d)) throw new InvalidAccountInputError(`"${d}" is not a valid domain name`);
  if (input.ownerEmail !== undefined && !EMAIL.test(input.ownerEmail)) throw new InvalidAccountInputError(`"${input.ownerEmail}" is not an email address`);
  return knex.transaction(async (trx) => {
    const existing = await runSql(trx, `select 1 from accounts where slug = ?`, [slug]);
    if (existing.rowCount > 0) throw new InvalidAccountInputError(`an account "${slug}" already exists`);
    const { rows: [account] } = await runSql<Account>(trx, `insert into accounts (slug, name) values (?, ?) returning *`, [slug, input.name ?? slug]);
    for (const name of domains) await runSql(trx, `insert into sending_domains (account_id, name) values (?, ?)`, [account!.id, name]);
    if (input.ownerEmail) {
      const { rows: [user] } = await runSql<{ id: string }>(trx,
        `insert into users (email) values (?) on conflict (lower(email)) do update set updated_at = now() returning id`, [input.ownerEmail]);
      await runSql(trx, `insert into memberships (account_id, user_id, role) values (?, ?, 'owner')`, [account!.id, user!.id]);
    }
    await writeAudit(trx, { accountId: account!.id, actor, action: "account.created", targetType: "account", targetId: account!.id,
      after: { slug, domains, owner: input.ownerEmail ?? null } });
    return { ...account!, domains, owner_email: input.ownerEmail ?? null };
  });
}

/** Adds a sending domain to an account (a rule's pattern may then match it; the next reconcile grants it). */
export async function addDomain(knex: Knex, slug: string, name: string, actor: string): Promise<{ id: string; name: string }> {
  const domain = name.trim().toLowerCase();
  if (!DOMAIN.test(domain)) throw new InvalidAccountInputError(`"${name}" is not a valid domain name`);
  return knex.transaction(async (trx) => {
    const account = await findAccount(trx, slug);
    const { rows: [row] } = await runSql<{ id: string; name: string }>(trx,
      `insert into sending_domains (account_id, name) values (?, ?) on conflict do nothing returning id, name`, [account.id, domain]);
    if (!row) throw new InvalidAccountInputError(`${slug} already has the domain ${domain}`);
    await writeAudit(trx, { accountId: account.id, actor, action: "domain.added", targetType: "domain", targetId: row.id, after: { name: domain } });
    await runSql(trx, `insert into reconcile_requests (account_id, reason) values (?, ?)`, [account.id, `domain ${domain} added`]);
    return row;
  });
}

export async function listDomains(db: Executor, slug: string): Promise<Array<{ id: string; name: string; created_at: Date }>> {
  const account = await findAccount(db, slug);
  const { rows } = await runSql(db, `select id, name, created_at from sending_domains where account_id = ? order by name`, [account.id]);
  return rows;
}

export async function findAccount(db: Executor, slug: string): Promise<Account> {
  const { rows: [account] } = await runSql<Account>(db, `select * from accounts where slug = ?`, [slug.toLowerCase()]);
  if (!account) throw new AccountNotFoundError(slug);
  return account;
}

export async function listAccounts(db: Executor): Promise<AccountSummary[]> {
  const { rows } = await runSql<AccountSummary>(db, `
    select a.*, coalesce((select array_agg(d.name order by d.name) from sending_domains d where d.account_id = a.id), '{}') as domains,
      (select u.email from memberships m join users u on u.id = m.user_id where m.account_id = a.id and m.role = 'owner') as owner_email
    from accounts a order by a.slug`);
  return rows;
}
