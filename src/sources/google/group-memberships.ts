// Direct members of the groups in scope, read with bounded concurrency. Nesting is not flattened
// here: a sub-group is a membership with memberType Group and the mapping stage computes the
// (cycle-safe) closure. For a scoped pull (groupQuery/groupEmails) sub-groups outside the scope are
// fetched too, level by level, so the closure over the groups the rules name is complete.
// The result only references users and groups it hands over: members that are not users of this
// directory (external addresses, users created after the users listing) and groups Google will not
// show us (another organisation's) are skipped, silently, as nothing can be granted through them.
import type { admin_directory_v1 } from "@googleapis/admin";
import type { PulledGroup, PulledMembership, PulledUser } from "../../snapshot/pulled-directory.ts";
import { IncompletePullError } from "../pull-errors.ts";
import { mapBounded } from "./bounded-map.ts";
import { MEMBER_FIELDS, toPulledGroup } from "./directory-mapping.ts";
import type { DirectorySession } from "./directory-session.ts";
import { getGroup, type GroupScope } from "./group-scope.ts";
import { collectPages } from "./page-walk.ts";

export interface GroupMemberships {
  /** The groups in scope plus the sub-groups a scoped pull reached. */
  readonly groups: PulledGroup[];
  readonly memberships: PulledMembership[];
}

export async function readGroupMemberships(session: DirectorySession, scope: GroupScope, users: readonly PulledUser[]): Promise<GroupMemberships> {
  const userIds = new Set(users.map((u) => u.sourceId));
  // a CUSTOMER member is "every user of the customer": expanded to the users who can use access now
  const everyone = users.filter((u) => u.active).map((u) => u.sourceId);
  const groups = new Map(scope.groups.map((g) => [g.sourceId, g]));
  const attempted = new Set(groups.keys());
  const edges = new Map<string, PulledMembership>();
  const groupEdges: PulledMembership[] = [];
  const addUser = (groupSourceId: string, memberSourceId: string) =>
    edges.set(`${groupSourceId}|${memberSourceId}`, { groupSourceId, memberSourceId, memberType: "User" });

  let level = scope.groups;
  while (level.length > 0) {
    const read = await mapBounded(level, session.concurrency, async (group) => ({ group, members: await listMembers(session, group) }));
    const reached = new Set<string>();
    for (const { group, members } of read) {
      for (const member of members) {
        if (!member.id) throw new IncompletePullError(`members.list ${group.sourceId}: a member came without id`);
        if (member.type === "USER") {
          if (userIds.has(member.id)) addUser(group.sourceId, member.id);
        } else if (member.type === "CUSTOMER") {
          for (const id of everyone) addUser(group.sourceId, id);
        } else if (member.type === "GROUP") {
          groupEdges.push({ groupSourceId: group.sourceId, memberSourceId: member.id, memberType: "Group" });
          if (!scope.complete && !attempted.has(member.id)) reached.add(member.id);
        }
        // type EXTERNAL is documented as "not currently used": nothing to grant through it
      }
    }
    for (const id of reached) attempted.add(id);
    const fetched = await mapBounded([...reached], session.concurrency, (id) => getGroup(session, id));
    level = fetched.filter((g): g is admin_directory_v1.Schema$Group => g !== null).map(toPulledGroup);
    for (const group of level) groups.set(group.sourceId, group);
  }
  const memberships = [...edges.values()];
  const seenGroupEdges = new Set<string>();
  for (const edge of groupEdges) {
    const key = `${edge.groupSourceId}|${edge.memberSourceId}`;
    if (groups.has(edge.memberSourceId) && !seenGroupEdges.has(key)) {
      seenGroupEdges.add(key);
      memberships.push(edge);
    }
  }
  return { groups: [...groups.values()], memberships };
}

async function listMembers(session: DirectorySession, group: PulledGroup): Promise<admin_directory_v1.Schema$Member[]> {
  const { directory, requests } = session;
  const what = `members.list ${group.email ?? group.sourceId}`;
  const members = await collectPages(what, "members", async (pageToken) => {
    const page = await requests.sendOrNull({ what, pageToken },
      (options) => directory.members.list({ groupKey: group.sourceId, maxResults: 200, fields: MEMBER_FIELDS, ...(pageToken ? { pageToken } : {}) }, options),
      [404]);
    // listed a moment ago, gone now: this run cannot see a consistent directory, the next one will
    if (!page) throw new IncompletePullError(`${what}: the group disappeared while the pull read it`);
    return page;
  }, (page) => page.members);
  // an answer without its members key reads as "no members": believable only if Google counts none.
  // (A partial list is not checked: the count may lag a change by a moment.)
  if (members.length === 0 && (group.memberCount ?? 0) > 0) {
    throw new IncompletePullError(`${what}: Google counts ${group.memberCount} direct members but listed none`);
  }
  return members;
}
