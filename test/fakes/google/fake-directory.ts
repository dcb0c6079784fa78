// The fake's mutable model of one Google Workspace customer and how the Directory API renders it:
// deleted users vanish from listings and memberships, member status follows the user, external
// members carry no status, CUSTOMER members have no email, counts are strings.

export interface FakeUser {
  id: string;
  primaryEmail: string;
  givenName: string;
  familyName: string;
  suspended?: boolean;
  archived?: boolean;
  isAdmin?: boolean;
  /** Set once deleted: the user then only shows with `showDeleted=true`. */
  deletionTime?: string;
  orgUnitPath?: string;
  department?: string;
  employeeId?: string;
  aliases?: string[];
}

export interface FakeGroup {
  id: string;
  email: string;
  name: string;
  description?: string;
  aliases?: string[];
}

/** A direct membership row as stored; email and status are derived when rendered. */
export interface FakeMember {
  /** User id, group id, or the customer id for `CUSTOMER`. */
  id: string;
  type: "USER" | "GROUP" | "CUSTOMER";
  role?: "OWNER" | "MANAGER" | "MEMBER";
  /** Only for members outside the directory (external users, foreign groups). */
  email?: string;
}

export interface FakeDirectory {
  customerId: string;
  domain: string;
  users: FakeUser[];
  groups: FakeGroup[];
  /** Direct members by group id. */
  members: Map<string, FakeMember[]>;
}

export function emptyDirectory(customerId = "C01abcd23", domain = "example.com"): FakeDirectory {
  return { customerId, domain, users: [], groups: [], members: new Map() };
}

export function renderUser(dir: FakeDirectory, user: FakeUser): Record<string, unknown> {
  return {
    kind: "admin#directory#user",
    id: user.id,
    etag: `"etag-${user.id}"`,
    primaryEmail: user.primaryEmail,
    name: { givenName: user.givenName, familyName: user.familyName, fullName: `${user.givenName} ${user.familyName}` },
    isAdmin: user.isAdmin ?? false,
    isDelegatedAdmin: false,
    agreedToTerms: true,
    suspended: user.suspended ?? false,
    ...(user.suspended ? { suspensionReason: "ADMIN" } : {}),
    archived: user.archived ?? false,
    changePasswordAtNextLogin: false,
    ipWhitelisted: false,
    emails: [{ address: user.primaryEmail, primary: true }, ...(user.aliases ?? []).map((address) => ({ address }))],
    ...(user.aliases?.length ? { aliases: user.aliases } : {}),
    nonEditableAliases: [`${user.primaryEmail}.test-google-a.com`],
    ...(user.department ? { organizations: [{ department: user.department, primary: true, customType: "" }] } : {}),
    ...(user.employeeId ? { externalIds: [{ value: user.employeeId, type: "organization" }] } : {}),
    customerId: dir.customerId,
    orgUnitPath: user.orgUnitPath ?? "/",
    isMailboxSetup: true,
    isEnrolledIn2Sv: false,
    creationTime: "2021-03-02T10:00:00.000Z",
    lastLoginTime: "2026-11-20T09:12:44.000Z",
    ...(user.deletionTime ? { deletionTime: user.deletionTime } : {}),
  };
}

export function renderGroup(dir: FakeDirectory, group: FakeGroup): Record<string, unknown> {
  return {
    kind: "admin#directory#group",
    id: group.id,
    etag: `"etag-${group.id}"`,
    email: group.email,
    name: group.name,
    description: group.description ?? "",
    directMembersCount: String(renderMembers(dir, group.id).length),
    adminCreated: true,
    ...(group.aliases?.length ? { aliases: group.aliases } : {}),
    nonEditableAliases: [`${group.email}.test-google-a.com`],
  };
}

/** The rendered direct members of a group; deleted users are no longer members. */
export function renderMembers(dir: FakeDirectory, groupId: string): Record<string, unknown>[] {
  const usersById = new Map(dir.users.map((u) => [u.id, u]));
  const groupsById = new Map(dir.groups.map((g) => [g.id, g]));
  const out: Record<string, unknown>[] = [];
  for (const member of dir.members.get(groupId) ?? []) {
    const base = { kind: "admin#directory#member", etag: `"etag-${groupId}-${member.id}"`, id: member.id, role: member.role ?? "MEMBER", type: member.type };
    if (member.type === "CUSTOMER") {
      out.push({ ...base, id: dir.customerId, status: "ACTIVE" });
    } else if (member.type === "GROUP") {
      const group = groupsById.get(member.id);
      out.push({ ...base, email: group?.email ?? member.email, status: "ACTIVE" });
    } else {
      const user = usersById.get(member.id);
      if (user?.deletionTime) continue;
      // members outside the directory carry no status (hlavki/g-suite-identity-sync#21)
      out.push(user ? { ...base, email: user.primaryEmail, status: user.suspended ? "SUSPENDED" : "ACTIVE" } : { ...base, email: member.email });
    }
  }
  return out;
}

/** `groupKey` is a group id, email or alias. */
export function findGroup(dir: FakeDirectory, groupKey: string): FakeGroup | undefined {
  const key = groupKey.toLowerCase();
  return dir.groups.find((g) => g.id === groupKey || g.email.toLowerCase() === key || (g.aliases ?? []).some((a) => a.toLowerCase() === key));
}
