// Tells every process when a SCIM token may have stopped working, so the verified tokens it caches
// (src/accounts/scim-token-cache.ts) are forgotten at once instead of at the end of their few seconds.
// A token stops working when it is revoked, expires early (rotation), is deleted, or its connection
// is disabled, changes hands or is deleted (cascaded deletes fire these row triggers too). The column
// lists keep the once-a-minute `last_used_at` write from flushing every cache. The payload is the
// connection's id; a new token needs no notice (only tokens that worked are cached).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function notify_scim_token_changed() returns trigger language plpgsql as $$
    begin
      if tg_table_name = 'scim_tokens' then
        perform pg_notify('idsync_scim_tokens_changed', old.connection_id::text);
      else
        perform pg_notify('idsync_scim_tokens_changed', old.id::text);
      end if;
      return null;
    end $$;
    create trigger scim_token_changed after update of revoked_at, expires_at, token_hash, connection_id or delete on scim_tokens
      for each row execute function notify_scim_token_changed();
    create trigger scim_connection_changed after update of status, kind, account_id or delete on directory_connections
      for each row execute function notify_scim_token_changed();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger scim_connection_changed on directory_connections;
    drop trigger scim_token_changed on scim_tokens;
    drop function notify_scim_token_changed();
  `);
}
