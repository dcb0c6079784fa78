// Exactly one owner at every moment. An owner rule moves ownership only to someone who is, or in the
// same plan becomes, an admin; the previous owner becomes an admin. Several candidates are a conflict:
// no change and an alert. A departed owner hands over to the configured successor if that person is
// an active admin; otherwise their sessions and keys go, their access is suspended, the ownership row
// stays, and an owner_departed alert is raised.
import type { AccountPolicy, Role } from "../mapping/mapping-rules.ts";
import type { ActualMember, ActualState } from "./actual-state.ts";
import type { PlanAction, Reason } from "./plan.ts";
import type { Target } from "./plan-target.ts";
import { planKeyChanges } from "./key-scope.ts";

export interface OwnershipPlan {
  readonly actions: PlanAction[];
  /** Members whose whole handling the ownership step did (the departed owner without a successor). */
  readonly handled: ReadonlySet<string>;
  /** Roles as they stand after a transfer, for the planner's role comparisons. */
  readonly roleAfterTransfer: ReadonlyMap<string, Role>;
}

function transfer(from: ActualMember | undefined, to: Target, actual: ActualState, reason: Reason, actions: PlanAction[], roles: Map<string, Role>): void {
  const member = actual.members.get(to.userKey);
  if (member && member.role === "member") actions.push({ type: "change_role", userId: to.userKey, from: "member", to: "admin", reason: { ...reason, event: "becomes admin before taking ownership" } });
  actions.push({ type: "transfer_ownership", from: from?.userId ?? null, to: to.userKey, reason });
  roles.set(to.userKey, "owner");
  if (from) roles.set(from.userId, "admin");
  to.role = member ? "owner" : "admin"; // a new person is added as admin, then made owner
  if (!member) roles.set(to.userKey, "admin");
}

/** `targets`: every person the plan places; `targetOf(key)`: the one of them with that key (a few calls, not one per person). */
export function planOwnership(targets: readonly Target[], targetOf: (key: string) => Target | undefined, actual: ActualState, policy: AccountPolicy): OwnershipPlan {
  const actions: PlanAction[] = [];
  const handled = new Set<string>();
  const roles = new Map<string, Role>();
  let owner: ActualMember | undefined;
  for (const m of actual.members.values()) { // a loop: no array of every member
    if (m.role === "owner") {
      owner = m;
      break;
    }
  }
  const candidates = targets.filter((t) => t.role === "owner");
  const ownerTarget = owner ? targetOf(owner.userId) : undefined;

  if (candidates.length > 1) {
    actions.push({ type: "alert", kind: "owner_conflict", reason: { event: "owner rule", rule: candidates[0]!.person.roleRule },
      detail: `owner rules match ${candidates.length} people (${candidates.map((c) => c.person.email).join(", ")}); ownership unchanged`,
      data: { candidates: candidates.map((c) => c.person.email) } });
    // no change: existing members keep their role, nobody new is added on an owner rule alone
    for (const c of candidates) c.role = actual.members.get(c.userKey)?.role ?? null;
  } else if (candidates.length === 1) {
    const candidate = candidates[0]!;
    if (candidate.userKey !== owner?.userId) {
      transfer(owner, candidate, actual, { rule: candidate.person.roleRule, connectionIds: candidate.person.connectionIds, event: "owner rule" }, actions, roles);
    }
  }
  if (!owner) {
    if (candidates.length !== 1) {
      // the database refuses members without an owner: nothing can be added until one is named
      for (const t of targets) if (!actual.members.has(t.userKey)) t.role = null;
      if (targets.length > 0) actions.push({ type: "alert", kind: "owner_missing", reason: { event: "no owner" }, detail: "the account has no owner, so nobody can be added: add an owner rule matching one person" });
    }
    return { actions, handled, roleAfterTransfer: roles };
  }
  if (roles.has(owner.userId)) return { actions, handled, roleAfterTransfer: roles }; // ownership moved by a rule

  const departing = owner.managedBy !== null && (!ownerTarget || ownerTarget.role === null);
  if (!departing) {
    // never demote the only owner: with no owner rule, or with several (a conflict changes nothing)
    if (ownerTarget) ownerTarget.role = "owner";
    return { actions, handled, roleAfterTransfer: roles };
  }
  // "departed" only when the IdP says so; an owner the rules no longer map (a rules change) is told apart
  const leftIdp = !ownerTarget || ownerTarget.person.state === "departed";
  const reason: Reason = { rule: owner.rule ?? null, connectionIds: ownerTarget?.person.connectionIds, event: leftIdp ? "owner departed" : "owner in no mapped group or rule" };
  // the successor must be an active admin once this plan is applied: already, or becoming one in it
  const successorEmail = policy.ownerSuccessor?.toLowerCase();
  const successorUser = successorEmail ? actual.usersByEmail.get(successorEmail) : undefined;
  const successorKey = successorUser?.userId ?? (successorEmail ? `new:${successorEmail}` : undefined);
  const successorMember = successorUser ? actual.members.get(successorUser.userId) : undefined;
  const successorTarget = successorKey ? targetOf(successorKey) : undefined;
  const manualAdmin = successorMember?.managedBy === null && successorMember.role === "admin" && successorMember.status === "active";
  // a successor the IdP knows is ready if the plan keeps them an admin; one it does not, if a manual active admin
  const ready = successorTarget ? successorTarget.role === "admin" : manualAdmin;
  if (successorKey && successorKey !== owner.userId && ready) {
    actions.push({ type: "transfer_ownership", from: owner.userId, to: successorKey, reason: { ...reason, event: `${reason.event}: ownership to the configured successor` } });
    roles.set(successorKey, "owner");
    roles.set(owner.userId, "admin");
    if (successorTarget) successorTarget.role = successorMember ? "owner" : "admin";
    return { actions, handled, roleAfterTransfer: roles };
  }
  handled.add(owner.userId);
  if (owner.status === "active") {
    actions.push({ type: "suspend_member", userId: owner.userId, reason });
    if (owner.activeSessions > 0) actions.push({ type: "revoke_sessions", userId: owner.userId, reason });
    actions.push(...planKeyChanges(owner, { active: false, role: "owner", writableDomainIds: new Set() }, { ...policy, orgKeys: "revoke" }, reason));
  }
  // re-stated by every plan while the owner stays departed, so it resolves once they return or hand over
  actions.push({ type: "alert", kind: "owner_departed", userId: owner.userId, reason,
    detail: `the owner ${owner.email} ${leftIdp ? "left the IdP" : "is in no group or rule that gives a role"} and no active admin successor is configured: their sessions and keys are revoked and access suspended; name a new owner` });
  return { actions, handled, roleAfterTransfer: roles };
}
