// A SCIM departure reconciles its user before the IdP reads 200, so the scoped reconcile of one person
// must stay fast in a 100,000-member account, and must not wait while a full run of the account plans.
//  - group-in-group edges are read whole by every run: without an index on them, each run scanned
//    every user membership of the account (500,000 rows in the bench) to find a handful;
//  - the removal brake counts the account's active members on every run that removes anything;
//  - reconcile_generation counts the runs that changed the account's membership tables: a full run
//    plans on a snapshot without the account lock, and applies only if no run changed anything since.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index idp_group_members_group_edges on idp_group_members (group_id) where member_type = 'Group';
    create index memberships_active on memberships (account_id) where status = 'active';
    alter table accounts add column reconcile_generation bigint not null default 0;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table accounts drop column reconcile_generation;
    drop index memberships_active; drop index idp_group_members_group_edges;
  `);
}
