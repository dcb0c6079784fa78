// An in-memory model of what applying a plan does to the membership tables, for pure tests of the
// planner's fixed point ("a plan computed right after applying one is empty"). The SQL applier is
// checked against the same property on the real databases.
import type { ActualMember, ActualState } from "../../src/reconcile/actual-state.ts";
import type { Plan } from "../../src/reconcile/plan.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

export function applyModel(actual: ActualState, plan: Plan, now: number): ActualState {
  const members = new Map([...actual.members].map(([id, m]) => [id, { ...m, grants: [...m.grants], keys: m.keys.map((k) => ({ ...k, domainIds: [...k.domainIds] })) } as Mutable<ActualMember>]));
  const identities = new Map(actual.identities);
  const usersByEmail = new Map(actual.usersByEmail);
  const invitationsTo = new Map(actual.invitationsTo);
  const ids = new Map<string, string>(); // new: keys → created user ids
  const id = (key: string) => ids.get(key) ?? key;
  for (const action of plan.actions) {
    switch (action.type) {
      case "create_user": {
        const userId = `created-${action.email.toLowerCase()}`;
        ids.set(action.key, userId);
        usersByEmail.set(action.email.toLowerCase(), { userId, email: action.email });
        for (const idp of action.idpUserIds) identities.set(idp, userId);
        break;
      }
      case "link_identity": {
        identities.set(action.idpUserId, action.userId);
        const m = members.get(action.userId);
        if (m && m.managedBy === null && action.via === "policy-email") m.managedBy = action.reason.connectionIds?.[0] ?? "c1";
        break;
      }
      case "update_email": {
        const m = members.get(action.userId)!;
        usersByEmail.delete(m.email.toLowerCase());
        m.email = action.to;
        usersByEmail.set(action.to.toLowerCase(), { userId: action.userId, email: action.to });
        break;
      }
      case "add_member": {
        const userId = id(action.userKey);
        members.set(userId, { userId, email: [...usersByEmail.values()].find((u) => u.userId === userId)?.email ?? userId, role: action.role,
          status: "active", suspendedAt: null, managedBy: action.reason.connectionIds?.[0] ?? "c1", grants: [], keys: [], activeSessions: 0, pendingInvitations: 0 });
        break;
      }
      case "change_role": members.get(action.userId)!.role = action.to; break;
      case "transfer_ownership":
        if (action.from) members.get(action.from)!.role = "admin";
        members.get(id(action.to))!.role = "owner";
        break;
      case "grant_domain": members.get(id(action.userKey))!.grants.push({ domainId: action.domainId, access: action.access, managed: true }); break;
      case "change_access": {
        const m = members.get(action.userId)!;
        m.grants = m.grants.map((g) => (g.domainId === action.domainId ? { ...g, access: action.to } : g));
        break;
      }
      case "revoke_domain": {
        const m = members.get(action.userId)!;
        m.grants = m.grants.filter((g) => g.domainId !== action.domainId);
        break;
      }
      case "suspend_member": Object.assign(members.get(action.userId)!, { status: "suspended", suspendedAt: new Date(now).toISOString() }); break;
      case "reactivate_member": Object.assign(members.get(action.userId)!, { status: "active", suspendedAt: null }); break;
      case "delete_member": members.delete(action.userId); break;
      case "revoke_sessions": members.get(action.userId)!.activeSessions = 0; break;
      case "revoke_invitations":
        members.get(action.userId)!.pendingInvitations = 0;
        invitationsTo.delete(action.email.toLowerCase());
        break;
      case "revoke_key": {
        const m = members.get(action.userId);
        if (m) m.keys = m.keys.filter((k) => k.keyId !== action.keyId);
        break;
      }
      case "narrow_key": {
        const m = members.get(action.userId)!;
        m.keys = m.keys.map((k) => (k.keyId === action.keyId ? { ...k, domainIds: k.domainIds.filter((d) => !action.removeDomainIds.includes(d)) } : k));
        break;
      }
      case "alert": break;
    }
  }
  return { ...actual, members, identities, usersByEmail, invitationsTo };
}
