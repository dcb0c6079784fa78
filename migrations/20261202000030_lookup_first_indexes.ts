// The indexes SCIM lookups use (userName, externalId, group displayName) lead with the value looked
// up, not with connection_id. Without statistics (right after a bulk push; on PGlite, until idsync's
// own ANALYZE) the planner estimates ~1 row for `connection_id = ? and deleted_at is null` (IS NULL's
// default selectivity is 0.5 %), so every partial index that leads with connection_id ties, and it
// picked the paging index (connection_id, created_at, id) and filtered every user of the connection
// on each `userName eq "x"`. The lookups (idp-users.ts findIdpUsersBy, idp-groups.ts
// findIdpGroupsBy) now compare the connection in a form no index serves, so the index that leads with
// the looked-up value is the only one that applies, statistics or not; connection_id stays its second
// column for the queries that name both (uniqueness is the same set either way round).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index idp_users_user_name_key;
    create unique index idp_users_user_name_key on idp_users (lower(user_name), connection_id) where deleted_at is null;
    drop index idp_users_external_id;
    create index idp_users_external_id on idp_users (external_id, connection_id) where deleted_at is null;
    drop index idp_groups_display_name;
    create index idp_groups_display_name on idp_groups (lower(display_name), connection_id) where deleted_at is null;
    drop index idp_groups_external_id;
    create index idp_groups_external_id on idp_groups (external_id, connection_id) where deleted_at is null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index idp_users_user_name_key;
    create unique index idp_users_user_name_key on idp_users (connection_id, lower(user_name)) where deleted_at is null;
    drop index idp_users_external_id;
    create index idp_users_external_id on idp_users (connection_id, external_id) where deleted_at is null;
    drop index idp_groups_display_name;
    create index idp_groups_display_name on idp_groups (connection_id, lower(display_name)) where deleted_at is null;
    drop index idp_groups_external_id;
    create index idp_groups_external_id on idp_groups (connection_id, external_id) where deleted_at is null;
  `);
}
