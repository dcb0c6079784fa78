// The fake's Entra tenant: users (enabled, disabled, soft-deleted; hard-deleted ones are simply gone), groups, and
// direct memberships. Tests mutate it between delta rounds; the delta engine diffs snapshots of it. As in Entra, a
// soft-deleted user keeps its memberships until it is hard-deleted, and a hard delete removes it from every group.
import { randomUUID } from "node:crypto";

export interface FakeUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  accountEnabled: boolean;
  userType: "Member" | "Guest";
  department: string | null;
  employeeId: string | null;
}

export interface FakeGroup {
  id: string;
  displayName: string;
  mail: string | null;
  description: string | null;
  securityEnabled: boolean;
  groupTypes: string[];
}

/** `softDeleted` objects sit in deletedItems (restorable); hard-deleted ones are no longer in the model. */
export type ObjectState = "active" | "softDeleted";

export interface UserRecord { user: FakeUser; state: ObjectState }
export interface GroupRecord { group: FakeGroup; state: ObjectState; members: Set<string> }

/** A frozen copy of the tenant, taken when a delta round starts. */
export interface TenantSnapshot {
  readonly users: ReadonlyMap<string, Readonly<UserRecord>>;
  readonly groups: ReadonlyMap<string, Readonly<GroupRecord>>;
}

/** The mutable tenant a Graph fake serves. */
export class FakeTenant {
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();

  constructor(readonly tenantId: string = randomUUID(), readonly domain = "contoso.onmicrosoft.com") {}

  addUser(fields: Partial<FakeUser> & { userPrincipalName: string }): FakeUser {
    const user: FakeUser = { id: randomUUID(), mail: fields.userPrincipalName, displayName: null, givenName: null, surname: null,
      accountEnabled: true, userType: "Member", department: null, employeeId: null, ...fields };
    this.users.set(user.id, { user, state: "active" });
    return user;
  }

  updateUser(id: string, patch: Partial<Omit<FakeUser, "id">>): void {
    Object.assign(this.mustUser(id).user, patch);
  }

  softDeleteUser(id: string): void {
    this.mustUser(id).state = "softDeleted";
  }

  restoreUser(id: string): void {
    this.mustUser(id).state = "active";
  }

  hardDeleteUser(id: string): void {
    this.mustUser(id);
    this.users.delete(id);
    for (const g of this.groups.values()) g.members.delete(id);
  }

  addGroup(fields: Partial<FakeGroup> & { displayName: string }): FakeGroup {
    const group: FakeGroup = { id: randomUUID(), mail: null, description: null, securityEnabled: true, groupTypes: [], ...fields };
    this.groups.set(group.id, { group, state: "active", members: new Set() });
    return group;
  }

  updateGroup(id: string, patch: Partial<Omit<FakeGroup, "id">>): void {
    Object.assign(this.mustGroup(id).group, patch);
  }

  softDeleteGroup(id: string): void {
    this.mustGroup(id).state = "softDeleted";
  }

  hardDeleteGroup(id: string): void {
    this.mustGroup(id);
    this.groups.delete(id);
    for (const g of this.groups.values()) g.members.delete(id);
  }

  addMember(groupId: string, memberId: string): void {
    if (!this.users.has(memberId) && !this.groups.has(memberId)) throw new Error(`no directory object ${memberId}`);
    this.mustGroup(groupId).members.add(memberId);
  }

  removeMember(groupId: string, memberId: string): void {
    this.mustGroup(groupId).members.delete(memberId);
  }

  /** `#microsoft.graph.user` / `#microsoft.graph.group` for an object of this tenant or of `snapshot`. */
  odataType(id: string, snapshot?: TenantSnapshot): string | null {
    if (this.users.has(id) || snapshot?.users.has(id)) return "#microsoft.graph.user";
    if (this.groups.has(id) || snapshot?.groups.has(id)) return "#microsoft.graph.group";
    return null;
  }

  snapshot(): TenantSnapshot {
    const users = new Map<string, UserRecord>();
    for (const [id, r] of this.users) users.set(id, { user: { ...r.user }, state: r.state });
    const groups = new Map<string, GroupRecord>();
    for (const [id, r] of this.groups) groups.set(id, { group: { ...r.group, groupTypes: [...r.group.groupTypes] }, state: r.state, members: new Set(r.members) });
    return { users, groups };
  }

  private mustUser(id: string): UserRecord {
    const r = this.users.get(id);
    if (!r) throw new Error(`no user ${id}`);
    return r;
  }

  private mustGroup(id: string): GroupRecord {
    const r = this.groups.get(id);
    if (!r) throw new Error(`no group ${id}`);
    return r;
  }
}
