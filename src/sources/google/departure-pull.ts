// The cheap, frequent departure check (every few minutes): only users who are suspended, archived or
// deleted right now, three listings that are a single page each in any normal directory. A user both
// suspended and archived is listed twice by Google and handed over once.
import type { DeparturePull, PulledUser } from "../../snapshot/pulled-directory.ts";
import { DELETED_USER_FIELDS, toDeletedUserId, toPulledUser, USER_FIELDS } from "./directory-mapping.ts";
import { listUsers, openDirectorySession, type GooglePullDeps } from "./directory-session.ts";
import type { GoogleConnectionConfig } from "./google-connection.ts";

export async function departurePull(config: GoogleConnectionConfig, deps: GooglePullDeps = {}): Promise<DeparturePull> {
  const session = await openDirectorySession(config, deps);
  const suspended = await listUsers(session, "users.list isSuspended=true", { query: "isSuspended=true", fields: USER_FIELDS });
  const archived = await listUsers(session, "users.list isArchived=true", { query: "isArchived=true", fields: USER_FIELDS });
  const deleted = await listUsers(session, "users.list showDeleted", { showDeleted: "true", fields: DELETED_USER_FIELDS });
  const inactive = new Map<string, PulledUser>();
  for (const user of [...suspended, ...archived].map(toPulledUser)) {
    // a user reactivated between two listings is no departure
    if (!user.active) inactive.set(user.sourceId, user);
  }
  return { inactiveUsers: [...inactive.values()], deletedUserSourceIds: [...new Set(deleted.map(toDeletedUserId))], calls: session.requests.calls };
}
