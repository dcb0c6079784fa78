// Direct members of the groups in scope, read with bounded concurrency. Nesting is not flattened
// here: a sub-group is a membership with memberType Group and the mapping stage computes the
// (cycle-safe) closure. For a scoped pull (groupQuery/groupEmails) sub-groups outside the scope are
// fetched too, level by level, so the closure over the groups the rules name is complete.
// Members that are not users of this directory (external addresses, users created after the users
// listing) and groups Google will not show us (another organisation's) are dropped by the receiver,
// silently, as nothing can be granted through them.
import type { admin_directory_v1 } from "@googleapis/admin";
import type { PulledGroup, StreamedMembership } from "../../snapshot/pulled-directory.ts";
import { IncompletePullError } from "../pull-errors.ts";
import { mapBounded } from "./bounded-map.ts";
import { MEMBER_FIELDS, toPulledGroup } from "./directory-mapping.ts";
import type { DirectorySession } from "./directory-session.ts";
import { getGroup, type GroupScope } from "./group-scope.ts";
import { walkPages } from "./page-walk.ts";

/** What the walk hands over, a page at a time: groups (before any membership naming them) and memberships. */
export type MembershipPage =
  | { readonly kind: "groups"; readonly groups: readonly PulledGroup[] }
  | { readonly kind: "memberships"; readonly memberships: readonly StreamedMembership[] };

/**
 * Walks the members of the groups in scope page by page. Each members page becomes one memberships page as it
 * arrives, unfiltered: a USER member may be no user of this directory, a GROUP member a group out of scope, and a
 * CUSTOMER member is `Everyone`; whoever receives the pages drops what names nothing pulled (the staging apply by
 * joins, fullPull below by sets), so the walk holds no list of users.
 */
export async function walkGroupMemberships(session: DirectorySession, scope: GroupScope, emit: (page: MembershipPage) => Promise<void>): Promise<void> {
  const attempted = new Set(scope.groups.map((g) => g.sourceId));
  if (scope.groups.length > 0) await emit({ kind: "groups", groups: scope.groups });
  let level = scope.groups;
  while (level.length > 0) {
    const reached = new Set<string>();
    await mapBounded(level, session.concurrency, async (group) => {
      await walkMembers(session, group, async (members) => {
        const page: StreamedMembership[] = [];
        for (const member of members) {
          if (!member.id) throw new IncompletePullError(`members.list ${group.sourceId}: a member came without id`);
          if (member.type === "USER") {
            page.push({ groupSourceId: group.sourceId, memberSourceId: member.id, memberType: "User" });
          } else if (member.type === "CUSTOMER") {
            page.push({ groupSourceId: group.sourceId, memberType: "Everyone" });
          } else if (member.type === "GROUP") {
            page.push({ groupSourceId: group.sourceId, memberSourceId: member.id, memberType: "Group" });
            if (!scope.complete && !attempted.has(member.id)) reached.add(member.id);
          }
          // type EXTERNAL is documented as "not currently used": nothing to grant through it
        }
        if (page.length > 0) await emit({ kind: "memberships", memberships: page });
      });
    });
    for (const id of reached) attempted.add(id);
    const fetched = await mapBounded([...reached], session.concurrency, (id) => getGroup(session, id));
    level = fetched.filter((g): g is admin_directory_v1.Schema$Group => g !== null).map(toPulledGroup);
    if (level.length > 0) await emit({ kind: "groups", groups: level });
  }
}

async function walkMembers(session: DirectorySession, group: PulledGroup, onPage: (members: admin_directory_v1.Schema$Member[]) => Promise<void>): Promise<void> {
  const { directory, requests } = session;
  const what = `members.list ${group.email ?? group.sourceId}`;
  const count = await walkPages(what, "members", async (pageToken) => {
    const page = await requests.sendOrNull({ what, pageToken },
      (options) => directory.members.list({ groupKey: group.sourceId, maxResults: 200, fields: MEMBER_FIELDS, ...(pageToken ? { pageToken } : {}) }, options),
      [404]);
    // listed a moment ago, gone now: this run cannot see a consistent directory, the next one will
    if (!page) throw new IncompletePullError(`${what}: the group disappeared while the pull read it`);
    return page;
  }, (page) => page.members, onPage);
  // an answer without its members key reads as "no members": believable only if Google counts none.
  // (A partial list is not checked: the count may lag a change by a moment.)
  if (count === 0 && (group.memberCount ?? 0) > 0) {
    throw new IncompletePullError(`${what}: Google counts ${group.memberCount} direct members but listed none`);
  }
}
