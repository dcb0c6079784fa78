// Graph delta entries (users/delta, groups/delta with members) as idsync's pulled data. Changed objects are read as
// whole objects: we always $select every property we map and never send `Prefer: return=minimal`, and Graph v1.0
// then returns, for a changed object, the selected properties with their current values (unchanged ones included,
// properties never set left out). A user entry missing `userPrincipalName` or `accountEnabled` therefore means a
// broken answer, and fails the pull (IncompletePullError) rather than guess an identity or an active flag. A group
// entry without `displayName` is a membership-only slice (a large group continued on a later page): its
// `members@delta` are merged, the group itself is not reported as changed from it.
import type { PulledGroup, PulledMembership, PulledUser } from "../../snapshot/pulled-directory.ts";
import { IncompletePullError } from "../pull-errors.ts";

export const USER_SELECT = ["id", "userPrincipalName", "mail", "displayName", "givenName", "surname", "accountEnabled",
  "userType", "department", "employeeId"] as const;
export const GROUP_SELECT = ["id", "displayName", "mail", "description", "securityEnabled", "groupTypes", "members"] as const;

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

export type RemovedReason = "changed" | "deleted";

/** One users/delta entry: a user as it is now, or its removal. */
export type UserEntry = { kind: "user"; user: PulledUser } | { kind: "removed"; sourceId: string; reason: RemovedReason };

/** One groups/delta entry: the group (null for a membership-only slice) and its members@delta. */
export type GroupEntry =
  | { kind: "group"; sourceId: string; group: PulledGroup | null; added: PulledMembership[]; removed: PulledMembership[] }
  | { kind: "removed"; sourceId: string; reason: RemovedReason };

type Raw = Record<string, unknown>;

function text(raw: Raw, key: string): string | null {
  const value = raw[key];
  return typeof value === "string" && value !== "" ? value : null;
}

function entryId(raw: unknown, resource: string): { raw: Raw; id: string } {
  if (typeof raw !== "object" || raw === null || typeof (raw as Raw).id !== "string" || (raw as Raw).id === "") {
    throw new IncompletePullError(`Graph ${resource}/delta returned an object without an id`);
  }
  return { raw: raw as Raw, id: (raw as Raw).id as string };
}

function removedReason(raw: Raw): RemovedReason | null {
  const removed = raw["@removed"];
  if (removed === undefined) return null;
  return (removed as Raw | null)?.reason === "deleted" ? "deleted" : "changed";
}

/** A users/delta entry as a PulledUser (SCIM-shaped `resource`) or a removal. */
export function readUserEntry(value: unknown): UserEntry {
  const { raw, id } = entryId(value, "users");
  const reason = removedReason(raw);
  if (reason) return { kind: "removed", sourceId: id, reason };
  const userName = text(raw, "userPrincipalName");
  if (userName === null || typeof raw.accountEnabled !== "boolean") {
    throw new IncompletePullError(`Graph users/delta returned user ${id} without userPrincipalName or accountEnabled`);
  }
  const mail = text(raw, "mail");
  const displayName = text(raw, "displayName");
  const resource: Record<string, unknown> = {
    userName,
    name: { givenName: text(raw, "givenName"), familyName: text(raw, "surname") },
    displayName,
    emails: mail ? [{ value: mail, primary: true, type: "work" }] : [],
    active: raw.accountEnabled,
    userType: text(raw, "userType"),
    [ENTERPRISE]: { department: text(raw, "department"), employeeNumber: text(raw, "employeeId") },
  };
  return { kind: "user", user: { sourceId: id, userName, email: mail, displayName, active: raw.accountEnabled, resource } };
}

function memberType(odataType: unknown): "User" | "Group" | null {
  if (odataType === "#microsoft.graph.user") return "User";
  if (odataType === "#microsoft.graph.group") return "Group";
  return null; // devices, service principals, org contacts: not identities idsync grants to
}

/** A groups/delta entry: the group when whole, plus its members@delta split into additions and removals. */
export function readGroupEntry(value: unknown): GroupEntry {
  const { raw, id } = entryId(value, "groups");
  const reason = removedReason(raw);
  if (reason) return { kind: "removed", sourceId: id, reason };
  const added: PulledMembership[] = [];
  const removed: PulledMembership[] = [];
  const members = raw["members@delta"];
  if (members !== undefined && !Array.isArray(members)) {
    throw new IncompletePullError(`Graph groups/delta returned group ${id} with a members@delta that is not a list`);
  }
  for (const m of members ?? []) {
    const member = entryId(m, "groups");
    if (typeof member.raw["@odata.type"] !== "string") {
      throw new IncompletePullError(`Graph groups/delta returned member ${member.id} of group ${id} without @odata.type`);
    }
    const type = memberType(member.raw["@odata.type"]);
    if (type === null) continue;
    const edge = { groupSourceId: id, memberSourceId: member.id, memberType: type };
    (member.raw["@removed"] === undefined ? added : removed).push(edge);
  }
  const displayName = text(raw, "displayName");
  const group: PulledGroup | null = displayName === null ? null : {
    sourceId: id,
    displayName,
    email: text(raw, "mail"),
    resource: {
      displayName,
      description: text(raw, "description"),
      securityEnabled: raw.securityEnabled ?? null,
      groupTypes: Array.isArray(raw.groupTypes) ? raw.groupTypes : [],
    },
  };
  return { kind: "group", sourceId: id, group, added, removed };
}
