// Google Directory objects → the plain shapes of src/snapshot/pulled-directory.ts, keyed on Google's immutable ids.
// Users get a SCIM User document so the same rule filters work for every source. An object without
// its id (or a user without primaryEmail) means the answer is not whole: the pull stops.
import type { admin_directory_v1 } from "@googleapis/admin";
import type { PulledGroup, PulledUser } from "../../snapshot/pulled-directory.ts";
import { IncompletePullError } from "../pull-errors.ts";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** Only what toPulledUser reads: Google sends a lot more per user. */
export const USER_FIELDS = "nextPageToken,users(id,primaryEmail,name(givenName,familyName,fullName),suspended,archived,organizations(department,primary),externalIds(type,value))";
export const DELETED_USER_FIELDS = "nextPageToken,users(id)";
export const GROUP_ITEM_FIELDS = "id,email,name,description,directMembersCount";
export const GROUP_FIELDS = `nextPageToken,groups(${GROUP_ITEM_FIELDS})`;
export const MEMBER_FIELDS = "nextPageToken,members(id,email,type,status)";

export function toPulledUser(user: admin_directory_v1.Schema$User): PulledUser {
  if (!user.id || !user.primaryEmail) throw new IncompletePullError(`a user came without ${user.id ? "primaryEmail" : "id"}`);
  // archived users hold an Archived User licence and cannot sign in; a missing flag is Google's false
  const active = user.suspended !== true && user.archived !== true;
  const givenName = user.name?.givenName ?? null;
  const familyName = user.name?.familyName ?? null;
  const displayName = user.name?.fullName ?? ([givenName, familyName].filter(Boolean).join(" ") || null);
  // organizations and externalIds are typed `any` by the client
  const organizations = (Array.isArray(user.organizations) ? user.organizations : []) as Array<{ department?: string; primary?: boolean }>;
  const externalIds = (Array.isArray(user.externalIds) ? user.externalIds : []) as Array<{ type?: string; value?: string }>;
  const department = (organizations.find((o) => o.primary) ?? organizations[0])?.department ?? undefined;
  const employeeNumber = externalIds.find((e) => e.type === "organization")?.value ?? undefined;
  const enterprise = { ...(department ? { department } : {}), ...(employeeNumber ? { employeeNumber } : {}) };
  return {
    sourceId: user.id,
    userName: user.primaryEmail,
    email: user.primaryEmail,
    displayName,
    active,
    resource: {
      userName: user.primaryEmail,
      name: { ...(givenName ? { givenName } : {}), ...(familyName ? { familyName } : {}) },
      ...(displayName ? { displayName } : {}),
      emails: [{ value: user.primaryEmail, primary: true, type: "work" }],
      active,
      [ENTERPRISE]: enterprise,
    },
  };
}

export function toDeletedUserId(user: admin_directory_v1.Schema$User): string {
  if (!user.id) throw new IncompletePullError("a deleted user came without id");
  return user.id;
}

export function toPulledGroup(group: admin_directory_v1.Schema$Group): PulledGroup {
  if (!group.id) throw new IncompletePullError(`a group came without id${group.email ? ` (${group.email})` : ""}`);
  const displayName = group.name || group.email || group.id;
  return {
    sourceId: group.id,
    displayName,
    email: group.email ?? null,
    resource: { displayName, ...(group.email ? { email: group.email } : {}), ...(group.description ? { description: group.description } : {}) },
    // kept out of the resource: it changes with every membership change, the group does not
    ...(group.directMembersCount != null && /^\d+$/.test(String(group.directMembersCount)) ? { memberCount: Number(group.directMembersCount) } : {}),
  };
}
