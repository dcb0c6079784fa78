// The database itself keeps Postscale's account rules, whatever code writes: one owner per account.
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";
import { createAccount } from "../../src/accounts/accounts.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
beforeEach(() => db.reset());
afterAll(() => db.close());

async function accountWithOwner() {
  const account = await createAccount(db.knex, { slug: "acme", domains: ["acme.com"], ownerEmail: "owner@acme.com" }, "test");
  const { rows: [admin] } = await db.knex.raw(`insert into users (email) values ('admin@acme.com') returning id`);
  await db.knex.raw(`insert into memberships (account_id, user_id, role) values (?, ?, 'admin')`, [account.id, admin.id]);
  return { accountId: account.id, adminId: admin.id as string };
}

test("a second owner is refused", async () => {
  const { accountId, adminId } = await accountWithOwner();
  await expect(db.knex.raw(`update memberships set role = 'owner' where account_id = ? and user_id = ?`, [accountId, adminId]))
    .rejects.toMatchObject({ code: "23505", constraint: "memberships_one_owner" });
});

test("an account with members cannot be left without an owner", async () => {
  const { accountId } = await accountWithOwner();
  await expect(db.knex.raw(`update memberships set role = 'admin' where account_id = ? and role = 'owner'`, [accountId]))
    .rejects.toMatchObject({ code: "23514", constraint: "memberships_account_has_owner" });
  await expect(db.knex.raw(`delete from memberships where account_id = ? and role = 'owner'`, [accountId]))
    .rejects.toMatchObject({ code: "23514" });
});

test("ownership passes to an admin inside one transaction, the old owner becoming an admin", async () => {
  const { accountId, adminId } = await accountWithOwner();
  await db.knex.transaction(async (trx) => {
    await trx.raw(`update memberships set role = 'admin' where account_id = ? and role = 'owner'`, [accountId]);
    await trx.raw(`update memberships set role = 'owner' where account_id = ? and user_id = ?`, [accountId, adminId]);
  });
  const { rows } = await db.knex.raw(`select u.email, m.role from memberships m join users u on u.id = m.user_id where m.account_id = ? order by u.email`, [accountId]);
  expect(rows).toEqual([{ email: "admin@acme.com", role: "owner" }, { email: "owner@acme.com", role: "admin" }]);
});

test("a snapshot row cannot claim an account its connection does not belong to", async () => {
  const acme = await createAccount(db.knex, { slug: "acme", domains: [] }, "test");
  const other = await createAccount(db.knex, { slug: "other", domains: [] }, "test");
  const { rows: [connection] } = await db.knex.raw(`insert into directory_connections (account_id, kind, name) values (?, 'scim', 'x') returning id`, [acme.id]);
  await expect(db.knex.raw(
    `insert into idp_users (id, connection_id, account_id, source_id, user_name, resource) values (gen_random_uuid(), ?, ?, 'x', 'x', '{}')`,
    [connection.id, other.id])).rejects.toMatchObject({ code: "23503" });
});
