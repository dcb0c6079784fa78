// Which IdP users a scoped reconcile must see. A SCIM change names the users it touched; the planner
// then needs each of those people whole (every identity they have in any of the account's connections,
// linked or matched by email) and everyone ownership depends on (the owner, the configured successor,
// every owner candidate). Planning that closed set gives, for those people, exactly the actions a full
// reconcile would: see test/reconcile/scoped-reconcile.test.ts.
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import type { OwnerCandidateSources } from "../mapping/owner-candidates.ts";
import { IDSYNC_EXTENSION } from "../mapping/desired-state.ts";

/** Beyond this many requested users a whole-account run is cheaper than a scoped one. */
export const MAX_SCOPED_USERS = 2000;

export interface ScopeSeed {
  readonly requestedIdpUserIds: readonly string[];
  readonly owners: OwnerCandidateSources;
  /** policy.owner_successor */
  readonly successorEmail: string | null;
}

/** The snapshot ids of every IdP user the scoped run must load. */
export async function expandScope(db: Executor, accountId: string, seed: ScopeSeed): Promise<string[]> {
  const successor = seed.successorEmail?.toLowerCase() ?? null;
  const { rows } = await runSql<{ id: string }>(db,
    `with owner as (select user_id from memberships where account_id = ? and role = 'owner'),
     seed as (
       select unnest(?::uuid[]) as id
       union select member_id from idp_group_members where group_id = any(?::uuid[]) and member_type = 'User'
       union select idp_user_id from user_identities where user_id in (select user_id from owner)
       union select id from idp_users where account_id = ? and ?::boolean and (resource -> ? ->> 'role' = 'owner'
         or exists (select 1 from jsonb_array_elements(case when jsonb_typeof(resource -> 'roles') = 'array' then resource -> 'roles' else '[]' end) r
                    where jsonb_typeof(r) = 'object' and lower(r ->> 'value') = 'owner'))
     ),
     seed_users as (
       select i.id, lower(coalesce(i.email, i.user_name)) as email from idp_users i join seed s on s.id = i.id where i.account_id = ?
     ),
     people as (
       select ui.user_id from user_identities ui join seed_users s on s.id = ui.idp_user_id
       union select u.id from users u join seed_users s on lower(u.email) = s.email
       union select user_id from owner
       union select id from users where lower(email) = ?::text
     ),
     emails as (
       select email from seed_users
       union select lower(u.email) from users u join people p on p.user_id = u.id
       union select ?::text where ?::text is not null
     )
     -- three index lookups, not one OR over the account's users: the OR made the planner scan every idp_users row
     select id from seed_users
     union select i.id from user_identities ui join people p on p.user_id = ui.user_id join idp_users i on i.id = ui.idp_user_id where i.account_id = ?
     union select i.id from emails e join idp_users i on i.account_id = ? and lower(coalesce(i.email, i.user_name)) = e.email`,
    [accountId, [...seed.requestedIdpUserIds], [...seed.owners.groupIds], accountId, seed.owners.byAttributes, IDSYNC_EXTENSION, accountId,
      successor, successor, successor, accountId, accountId]);
  return rows.map((r) => r.id);
}
