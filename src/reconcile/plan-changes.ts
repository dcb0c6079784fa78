// The planner: (desired, actual, policy) → plan. Pure. It changes only what an IdP manages, reports
// manual members untouched, keeps exactly one owner, keeps every key within its creator's access,
// and a plan computed right after applying one is empty.
import type { DesiredPerson, DesiredState } from "../mapping/desired-state.ts";
import type { AccountPolicy, Role } from "../mapping/mapping-rules.ts";
import type { ActualMember, ActualState } from "./actual-state.ts";
import type { IdentityResolution } from "./identity-resolution.ts";
import type { Plan, PlanAction, Reason } from "./plan.ts";
import { planKeyChanges } from "./key-scope.ts";
import { planOwnership } from "./ownership.ts";
import type { Target } from "./plan-target.ts";

export interface PlanInput {
  readonly desired: DesiredState;
  readonly actual: ActualState;
  readonly identities: IdentityResolution;
  readonly policy: AccountPolicy;
  /** Epoch milliseconds: the planner's only notion of time (retention). */
  readonly now: number;
}

const DAY_MS = 86_400_000;

function reasonFor(person: DesiredPerson, event: string, rule?: string | null): Reason {
  return { rule: rule ?? person.roleRule, connectionIds: person.connectionIds, event };
}

const NONE: readonly PlanAction[] = [];

function grantActions(userKey: string, member: ActualMember | undefined, person: DesiredPerson, role: Role): readonly PlanAction[] {
  // most people of a large account have no grant wanted or held: nothing to compare
  if ((role !== "member" || person.grants.length === 0) && (member === undefined || member.grants.length === 0)) return NONE;
  const actions: PlanAction[] = [];
  const wanted = new Map(role === "member" ? person.grants.map((g) => [g.domainId, g]) : []);
  const current = new Map((member?.grants ?? []).map((g) => [g.domainId, g]));
  for (const [domainId, grant] of wanted) {
    const existing = current.get(domainId);
    const reason = reasonFor(person, "rule", grant.rule);
    if (!existing) actions.push({ type: "grant_domain", userKey, domainId, access: grant.access, reason });
    else if (existing.managed && existing.access !== grant.access) {
      actions.push({ type: "change_access", userId: userKey, domainId, from: existing.access, to: grant.access, reason });
    }
  }
  for (const [domainId, grant] of current) {
    if (grant.managed && !wanted.has(domainId)) {
      actions.push({ type: "revoke_domain", userId: userKey, domainId, reason: reasonFor(person, role === "member" ? "no rule grants this domain" : `${role}s see every domain`) });
    }
  }
  return actions;
}

function writable(member: ActualMember | undefined, person: DesiredPerson | undefined, role: Role): Set<string> {
  const manual = (member?.grants ?? []).filter((g) => !g.managed && g.access === "write").map((g) => g.domainId);
  const managed = role === "member" ? (person?.grants ?? []).filter((g) => g.access === "write").map((g) => g.domainId) : [];
  return new Set([...manual, ...managed]);
}

/** Everything a departure or unassignment closes: membership, grants, sessions, invitations, keys. */
function removeAccess(member: ActualMember, person: DesiredPerson | undefined, input: PlanInput, event: string): PlanAction[] {
  // the rule that had given the access names the removal, so the audit says what was taken and why
  const reason: Reason = { rule: member.rule ?? null, connectionIds: person?.connectionIds, event };
  const actions: PlanAction[] = [];
  if (member.status === "active") actions.push({ type: "suspend_member", userId: member.userId, reason });
  for (const grant of member.grants) {
    if (grant.managed) actions.push({ type: "revoke_domain", userId: member.userId, domainId: grant.domainId, reason: { ...reason, rule: grant.rule ?? reason.rule } });
  }
  if (member.activeSessions > 0) actions.push({ type: "revoke_sessions", userId: member.userId, reason });
  if (member.pendingInvitations > 0 || (input.actual.invitationsTo.get(member.email.toLowerCase()) ?? 0) > 0) {
    actions.push({ type: "revoke_invitations", userId: member.userId, email: member.email, reason });
  }
  actions.push(...planKeyChanges(member, { active: false, role: member.role, writableDomainIds: new Set() }, input.policy, reason));
  const expired = member.suspendedAt !== null && input.now - Date.parse(member.suspendedAt) >= input.policy.retentionDays * DAY_MS;
  if (person?.deleted || expired) actions.push({ type: "delete_member", userId: member.userId, reason: { ...reason, event: person?.deleted ? "deleted in the IdP" : "retention ended" } });
  return actions;
}

/**
 * A linked person whose IdP email changed: the app user follows. Only when a single connection speaks
 * for them (two IdPs disagreeing would flip it back and forth), and never onto another user's address.
 */
function emailChange(member: ActualMember, person: DesiredPerson, actual: ActualState): readonly PlanAction[] {
  const to = person.email;
  if (!to || person.connectionIds.length !== 1 || to.toLowerCase() === member.email.toLowerCase()) return NONE;
  const reason = reasonFor(person, "email changed in the IdP");
  const holder = actual.usersByEmail.get(to.toLowerCase());
  if (holder && holder.userId !== member.userId) {
    return [{ type: "alert", kind: "email_conflict", userId: member.userId, reason,
      detail: `the IdP changed ${member.email} to ${to}, which another app user already has; the email was left unchanged` }];
  }
  return [{ type: "update_email", userId: member.userId, from: member.email, to, reason }];
}

const ORDER: Record<PlanAction["type"], number> = {
  create_user: 0, link_identity: 1, update_email: 2, add_member: 3, reactivate_member: 4, change_role: 5, transfer_ownership: 6, grant_domain: 7,
  change_access: 8, revoke_domain: 9, narrow_key: 10, revoke_key: 11, revoke_sessions: 12, revoke_invitations: 13,
  suspend_member: 14, delete_member: 15, alert: 16,
};

export function planChanges(input: PlanInput): Plan {
  const { desired, actual, identities } = input;
  const actions: PlanAction[] = [...identities.links];
  // an array, not a map keyed again by person: the desired people are that map already, and the few
  // lookups ownership makes (the owner, the successor) are scans (building a second map of a million
  // people cost a 1M-user plan a second)
  const targets: Target[] = [];
  for (const person of desired.people.values()) {
    if (person.key.startsWith("conflict:")) {
      const conflict = identities.conflicts.get(person.key)!;
      if (person.state === "assigned") actions.push({ type: "alert", kind: "manual_user_conflict", userId: conflict.userId, reason: reasonFor(person, "identity"),
        detail: `${conflict.email} is an existing app user no IdP manages; set policy.link_by_email to let the IdP take it over` });
      continue;
    }
    targets.push({ userKey: person.key, person, role: person.state === "assigned" ? person.role : null });
  }
  const targetOf = (key: string): Target | undefined => {
    const person = desired.people.get(key);
    return person && targets.find((t) => t.person === person);
  };

  const ownership = planOwnership(targets, targetOf, actual, input.policy);
  actions.push(...ownership.actions);
  const manualMembers: string[] = [];
  const linkedByPolicy = new Set(identities.links.flatMap((l) => (l.type === "link_identity" && l.via === "policy-email" ? [l.userId] : [])));

  let membersPlaced = 0; // members with a target (each has one at most: person keys are unique)
  for (const target of targets) {
    const { person, userKey } = target;
    const member = actual.members.get(userKey);
    if (member) membersPlaced++;
    if (member && member.managedBy === null && !linkedByPolicy.has(userKey)) {
      manualMembers.push(member.email);
      continue;
    }
    if (ownership.handled.has(userKey)) continue;
    if (target.role === null) {
      if (member) actions.push(...removeAccess(member, person, input, person.state === "departed" ? "departed" : "in no mapped group"));
      continue;
    }
    const role = target.role;
    if (!member) {
      if (userKey.startsWith("new:")) {
        const created = identities.newPeople.get(userKey)!;
        actions.push({ type: "create_user", key: userKey, email: created.email, displayName: created.displayName, idpUserIds: created.idpUserIds, reason: reasonFor(person, "new IdP user") });
      }
      actions.push({ type: "add_member", userKey, role, reason: reasonFor(person, "rule") });
      actions.push(...grantActions(userKey, undefined, person, role));
      continue;
    }
    actions.push(...emailChange(member, person, input.actual));
    if (member.status === "suspended") actions.push({ type: "reactivate_member", userId: userKey, reason: reasonFor(person, "reactivated in the IdP") });
    const currentRole = ownership.roleAfterTransfer.get(userKey) ?? member.role;
    if (currentRole !== role) actions.push({ type: "change_role", userId: userKey, from: currentRole, to: role, reason: reasonFor(person, "rule") });
    actions.push(...grantActions(userKey, member, person, role));
    if (member.keys.length > 0) actions.push(...planKeyChanges(member, { active: true, role, writableDomainIds: writable(member, person, role) }, input.policy, reasonFor(person, "access changed")));
  }

  // managed members no IdP mentions any more lose access the same way; when every member had a target
  // there are none, and a million lookups to find that out are skipped
  const reported = new Set(manualMembers);
  for (const member of membersPlaced === actual.members.size ? [] : actual.members.values()) {
    if (member.managedBy === null) {
      if (!desired.people.has(member.userId) && !reported.has(member.email)) {
        reported.add(member.email);
        manualMembers.push(member.email);
      }
      continue;
    }
    // a member's id is never a conflict's key: known to the desired state is having a target
    if (!desired.people.has(member.userId) && !ownership.handled.has(member.userId)) actions.push(...removeAccess(member, undefined, input, "no IdP knows this member"));
  }
  // values the IdP sent that grant nothing: kept, and shown to an operator (raised once while they last)
  for (const alert of desired.alerts) {
    actions.push({ type: "alert", kind: "unknown_attribute_value", ...(alert.personKey.includes(":") ? {} : { userId: alert.personKey }),
      detail: alert.detail, reason: { event: "attribute grants nothing" } });
  }
  // by ORDER, keeping the order within a type: one bucket per type, not a sort of a first plan's 200,000 actions
  const buckets: PlanAction[][] = Object.values(ORDER).map(() => []);
  for (const action of actions) buckets[ORDER[action.type]]!.push(action);
  const ordered = buckets.flat();
  return { actions: ordered, manualMembers: manualMembers.sort(), warnings: desired.warnings };
}

