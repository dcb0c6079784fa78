// The full Google Workspace snapshot of one connection: every user, the deleted ones, the groups in
// scope and their direct members. It is complete or it throws (pull-errors.ts); an empty user list
// is handed over as Google gave it, and the caller's drop check decides whether to believe it.
// streamFullPull reads it page by page (a scheduled pull writes each page to staging as it arrives, so
// memory stays bounded by a page whatever the directory's size); fullPull collects the same pages into
// one in-memory FullPull (tests, the demo, the bench's reference).
import type { FullPull, FullPullPage, FullPullStream, PulledGroup, PulledMembership, PulledUser } from "../../snapshot/pulled-directory.ts";
import { PageChannel } from "../page-channel.ts";
import { DELETED_USER_FIELDS, toDeletedUserId, toPulledUser, USER_FIELDS } from "./directory-mapping.ts";
import { openDirectorySession, walkUsers, type DirectorySession, type GooglePullDeps } from "./directory-session.ts";
import type { GoogleConnectionConfig } from "./google-connection.ts";
import { walkGroupMemberships } from "./group-memberships.ts";
import { readGroupScope } from "./group-scope.ts";

/** The pages of a full pull, in order: users, deleted users, groups, then memberships (several groups' at once). */
export function streamFullPull(config: GoogleConnectionConfig, deps: GooglePullDeps = {}): FullPullStream {
  let session: DirectorySession | null = null;
  // 16 pages (≤ 8,000 users or 3,200 members) queued: the reads go on while a staging insert runs
  const channel = new PageChannel<FullPullPage>(16);
  let started = false;
  const produce = async () => {
    session = await openDirectorySession(config, deps);
    const s = session;
    await walkUsers(s, "users.list", { fields: USER_FIELDS }, (users) => channel.push({ kind: "users", users: users.map(toPulledUser) }));
    await walkUsers(s, "users.list showDeleted", { showDeleted: "true", fields: DELETED_USER_FIELDS },
      (users) => channel.push({ kind: "deletedUsers", sourceIds: users.map(toDeletedUserId) }));
    const scope = await readGroupScope(s, config);
    await walkGroupMemberships(s, scope, (page) => channel.push(page));
  };
  return {
    get calls() {
      return session?.requests.calls ?? 0;
    },
    [Symbol.asyncIterator]() {
      // the reads start when the consumer starts: a stream nobody iterates makes no request
      if (!started) {
        started = true;
        produce().then(() => channel.end(), (error: unknown) => channel.end(error));
      }
      return channel[Symbol.asyncIterator]();
    },
  };
}

/**
 * The whole pull in memory. Memberships are made to reference only what it hands over, once: members who are no
 * user of this directory and sub-groups out of scope are dropped, `Everyone` becomes every active user.
 */
export async function fullPull(config: GoogleConnectionConfig, deps: GooglePullDeps = {}): Promise<FullPull> {
  const stream = streamFullPull(config, deps);
  const users: PulledUser[] = [];
  const deletedUserSourceIds: string[] = [];
  const groups = new Map<string, PulledGroup>();
  const streamed: Array<Extract<FullPullPage, { kind: "memberships" }>["memberships"]> = [];
  for await (const page of stream) {
    if (page.kind === "users") users.push(...page.users);
    else if (page.kind === "deletedUsers") deletedUserSourceIds.push(...page.sourceIds);
    else if (page.kind === "groups") for (const g of page.groups) groups.set(g.sourceId, g);
    else if (page.kind === "memberships") streamed.push(page.memberships);
  }
  const userIds = new Set(users.map((u) => u.sourceId));
  const everyone = users.filter((u) => u.active).map((u) => u.sourceId);
  const edges = new Map<string, PulledMembership>();
  const groupEdges = new Map<string, PulledMembership>();
  const addUser = (groupSourceId: string, memberSourceId: string) =>
    edges.set(`${groupSourceId}|${memberSourceId}`, { groupSourceId, memberSourceId, memberType: "User" });
  for (const page of streamed) {
    for (const m of page) {
      if (m.memberType === "Everyone") for (const id of everyone) addUser(m.groupSourceId, id);
      else if (m.memberType === "User") { if (userIds.has(m.memberSourceId)) addUser(m.groupSourceId, m.memberSourceId); }
      else if (groups.has(m.memberSourceId)) groupEdges.set(`${m.groupSourceId}|${m.memberSourceId}`, m);
    }
  }
  return { users, deletedUserSourceIds, groups: [...groups.values()], memberships: [...edges.values(), ...groupEdges.values()], calls: stream.calls };
}
