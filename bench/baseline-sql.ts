// The SQL the bare baseline (bench/bare-baseline.ts) issues: idsync's own statements, so that the
// benchmark compares idsync's layers and not two different queries. They are copied verbatim, in
// knex form (`?`, `${…}` as written in src), and checked against src at every run: when an engineer
// changes a statement in src, the bench says so instead of quietly comparing against stale SQL.
import { readFileSync } from "node:fs";
import path from "node:path";

interface Copy { file: string; text: string }
const CONNECTIONS = "src/accounts/connections.ts";
const SCOPE = "src/snapshot/connection-scope.ts";
const USERS = "src/snapshot/idp-users.ts";
const GROUPS = "src/snapshot/idp-groups.ts";
const CHANGES = "src/snapshot/snapshot-changes.ts";
const USER_RESOURCE = "src/sources/scim/resources/user-resource.ts";
const GROUP_RESOURCE = "src/sources/scim/resources/group-resource.ts";

/** Each text appears, whitespace aside, in its file. */
const COPIES = {
  token: { file: CONNECTIONS, text: `select t.id as token_id, c.id as connection_id, c.account_id, t.expires_at from scim_tokens t join directory_connections c on c.id = t.connection_id
     where t.token_hash = ? and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and c.status = 'active' and c.kind = 'scim'` },
  touchToken: { file: CONNECTIONS, text: "update scim_tokens set last_used_at = now() where id = ?" },
  // GET /Users?filter=userName eq "x": findIdpUsersBy(…, "userName", x), the lookup's own statement
  lookupUserName: { file: USERS, text: 'userName: "lower(u.user_name) = lower(?)",' },
  lookupSelect: { file: USERS, text: "`select ${COLUMNS} from idp_users u where ${LOOKUPS[attribute]} and u.connection_id::text = ? and u.deleted_at is null order by u.created_at, u.id`" },
  userColumns: { file: USERS, text: 'const COLUMNS = "u.id, u.connection_id, u.account_id, u.source_id, u.external_id, u.user_name, u.display_name, u.email, u.active, u.resource, u.version, u.created_at, u.updated_at";' },
  userReturning: { file: USERS, text: 'const RETURNING = COLUMNS.replaceAll("u.", "");' },
  // POST /Users: one statement writes the user and its reconcile request (USER_RECONCILE_REQUEST_CTE)
  insertUser: { file: USERS, text: `with written as (
       insert into idp_users (id, connection_id, account_id, source_id, external_id, user_name, display_name, email, active, resource)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) returning \${RETURNING})\${change === undefined ? "" : \`, \${USER_RECONCILE_REQUEST_CTE}\`}
     select * from written` },
  reconcileRequestCte: { file: CHANGES, text: "return `reconcile_request as (insert into reconcile_requests (account_id, reason, idp_user_ids) select account_id, ? || id, ${affected} from written)`;" },
  userReconcileRequestCte: { file: CHANGES, text: 'export const USER_RECONCILE_REQUEST_CTE = reconcileRequestCte("array[id]");' },
  // and the request paths still go through them, in this order
  authPath: { file: "src/sources/scim/scim-router.ts", text: "await options.tokens.verify(options.db, token)" },
  listPath: { file: USER_RESOURCE, text: "await findIdpUsersBy(ctx.db, ctx.scope, lookup.attribute, lookup.value)" },
  postPath: { file: USER_RESOURCE, text: `const row: IdpUserRow | undefined = id === undefined
        ? await insertIdpUser(ctx.db, ctx.scope, fields, undefined, change)` },
  // PATCH adding one member: changeGroupMembers (group-resource.ts memberOnlyChange), one call of the
  // database function change_group_members (the group's row lock, then the change, inside the database)
  patchPath: { file: GROUP_RESOURCE, text: `const result = await changeGroupMembers(ctx.db, ctx.scope, id, membership.add, membership.remove, "SCIM PATCH /Groups/");` },
  changeMembers: { file: GROUPS, text: "`select group_found, unknown_members from change_group_members(?, ?, ?::jsonb, ?::uuid[], ?)`" },
  changeMembersBindings: { file: GROUPS, text: "[groupId, scope.connectionId, JSON.stringify(add.map((m) => ({ value: m.value, display: m.display ?? null }))), remove, change]);" },
} satisfies Record<string, Copy>;

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

/** Names of the copies no longer found in src (empty: the baseline still issues idsync's SQL). */
export function staleCopies(root: string): string[] {
  const sources = new Map<string, string>();
  const source = (file: string) => sources.get(file) ?? sources.set(file, squash(readFileSync(path.join(root, file), "utf8"))).get(file)!;
  return Object.entries(COPIES).filter(([, copy]) => !source(copy.file).includes(squash(copy.text))).map(([name, copy]) => `${name} (${copy.file})`);
}

/** knex placeholders → PostgreSQL's $1…$n (none of these statements uses `?` otherwise). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

const constant = (copy: Copy) => /"([^"]*)"/.exec(copy.text)![1]!;
const userColumns = constant(COPIES.userColumns);
/** reconcileRequestCte(affected) of src/snapshot/snapshot-changes.ts, as the copy above spells it. */
const reconcileRequestCte = (affected: string) =>
  /`(reconcile_request as .*)`/.exec(COPIES.reconcileRequestCte.text)![1]!.replace("${affected}", affected);
const userReconcileRequestCte = reconcileRequestCte(/reconcileRequestCte\("(.*)"\)/.exec(COPIES.userReconcileRequestCte.text)![1]!);

/** The statements, ready for pg. */
export const SQL = {
  token: numbered(COPIES.token.text),
  touchToken: numbered(COPIES.touchToken.text),
  // findIdpUsersBy(db, scope, "userName", x); bindings: userName, connection id (the total is the rows' count)
  listUsers: numbered(`select ${userColumns} from idp_users u where ${/"(.*)"/.exec(COPIES.lookupUserName.text)![1]} `
    + "and u.connection_id::text = ? and u.deleted_at is null order by u.created_at, u.id"),
  // insertIdpUser(…, change): the user and its reconcile request in one statement; bindings: the 10
  // values, then the reason's prefix `SCIM POST /Users/`
  insertUser: numbered(COPIES.insertUser.text.replace("${RETURNING}", userColumns.replaceAll("u.", ""))
    .replace('${change === undefined ? "" : `, ${USER_RECONCILE_REQUEST_CTE}`}', `, ${userReconcileRequestCte}`)),
  // changeGroupMembers; bindings: group id, connection id, members JSON, ids to remove, reason prefix `SCIM PATCH /Groups/`
  changeMembers: numbered(/`(.*)`/.exec(COPIES.changeMembers.text)![1]!),
};
