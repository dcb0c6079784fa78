// The full Google Workspace snapshot of one connection: every user, the deleted ones, the groups in
// scope and their direct members. It is complete or it throws (pull-errors.ts); an empty user list
// is returned as Google gave it, and the caller's drop check decides whether to believe it.
import type { FullPull } from "../../snapshot/pulled-directory.ts";
import { DELETED_USER_FIELDS, toDeletedUserId, toPulledUser, USER_FIELDS } from "./directory-mapping.ts";
import { listUsers, openDirectorySession, type GooglePullDeps } from "./directory-session.ts";
import type { GoogleConnectionConfig } from "./google-connection.ts";
import { readGroupMemberships } from "./group-memberships.ts";
import { readGroupScope } from "./group-scope.ts";

export async function fullPull(config: GoogleConnectionConfig, deps: GooglePullDeps = {}): Promise<FullPull> {
  const session = await openDirectorySession(config, deps);
  const users = (await listUsers(session, "users.list", { fields: USER_FIELDS })).map(toPulledUser);
  const deleted = await listUsers(session, "users.list showDeleted", { showDeleted: "true", fields: DELETED_USER_FIELDS });
  const scope = await readGroupScope(session, config);
  const { groups, memberships } = await readGroupMemberships(session, scope, users);
  return {
    users,
    deletedUserSourceIds: deleted.map(toDeletedUserId),
    groups,
    memberships,
    calls: session.requests.calls,
  };
}
