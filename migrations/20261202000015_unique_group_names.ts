// A SCIM group's displayName is unique per connection, case-insensitively (RFC 7643 §4.2 lets the
// server declare uniqueness; Okta's group push and Entra's matching both look groups up by name).
// `unique_name` holds lower(display_name) for the SCIM groups that claim their name, and a unique
// index on it refuses a second claim — also when two requests race. Groups that already share a
// name are left in place: the oldest keeps the claim, the others keep no claim (null) until they are
// renamed, and one alert per pair tells the operator. Pulled groups (Google, Graph) never claim:
// their directories may hold same-named groups.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table idp_groups add column unique_name text;

    with scim_groups as (
      select g.id, g.account_id, g.connection_id, g.display_name, lower(g.display_name) as name,
             row_number() over (partition by g.connection_id, lower(g.display_name) order by g.created_at, g.id) as rank,
             first_value(g.id) over (partition by g.connection_id, lower(g.display_name) order by g.created_at, g.id) as keeper_id,
             first_value(g.display_name) over (partition by g.connection_id, lower(g.display_name) order by g.created_at, g.id) as keeper_name
      from idp_groups g join directory_connections c on c.id = g.connection_id
      where c.kind = 'scim' and g.deleted_at is null
    ),
    claimed as (
      update idp_groups g set unique_name = s.name from scim_groups s where s.id = g.id and s.rank = 1
    )
    insert into alerts (account_id, kind, detail, data)
    select account_id, 'duplicate_group_name',
           'SCIM groups "' || keeper_name || '" (' || keeper_id || ') and "' || display_name || '" (' || id || ') of one connection share a display name; rename or delete one in the IdP',
           jsonb_build_object('connectionId', connection_id, 'groupIds', jsonb_build_array(keeper_id, id), 'displayName', keeper_name)
    from scim_groups where rank > 1;

    create unique index idp_groups_unique_name on idp_groups (connection_id, unique_name) where deleted_at is null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index idp_groups_unique_name;
    alter table idp_groups drop column unique_name;
    delete from alerts where kind = 'duplicate_group_name';
  `);
}
