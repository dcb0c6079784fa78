// A connection's snapshot read back in IdP terms, for tests that compare two write paths.
import type { Knex } from "knex";

/** A connection's snapshot in IdP terms (no snapshot ids): what two connections to one directory can share. */
export async function snapshotByIdpIds(knex: Knex, connectionId: string) {
  const q = async (sql: string) => (await knex.raw(sql, [connectionId])).rows;
  return {
    users: await q(`select source_id, user_name, display_name, email, active, resource, deleted_at is null as live from idp_users where connection_id = ? order by source_id`),
    groups: await q(`select source_id, display_name, email, resource, deleted_at is null as live from idp_groups where connection_id = ? order by source_id`),
    members: await q(`select g.source_id as group_source, coalesce(u.source_id, sg.source_id) as member_source, m.member_type
      from idp_group_members m join idp_groups g on g.id = m.group_id left join idp_users u on u.id = m.member_id left join idp_groups sg on sg.id = m.member_id
      where g.connection_id = ? order by 1, 2`),
  };
}
