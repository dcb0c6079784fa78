// Reconcile requests name the IdP users a SCIM change affects, so the worker reconciles those people
// (and whoever ownership depends on) instead of the whole account. Null means "the whole account"
// (a group renamed or deleted, nesting changed, a rule changed).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table reconcile_requests add column idp_user_ids uuid[];

    -- scoped runs find a person's other identities by email across the account's connections
    create index idp_users_account_email on idp_users (account_id, lower(coalesce(email, user_name)));
    -- the removal brake counts the reconciler's recent removals of one account
    create index audit_log_account_action on audit_log (account_id, action, occurred_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index audit_log_account_action; drop index idp_users_account_email;
    alter table reconcile_requests drop column idp_user_ids;
  `);
}
