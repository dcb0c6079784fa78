// No active API key ever grants more than its creator may do now (Postscale's key rule): members'
// keys cover only domains they can write; a member who loses all access loses every key. A demoted or
// departed admin's organization-wide keys follow the account's policy: revoke, or keep and alert.
import type { AccountPolicy, Role } from "../mapping/mapping-rules.ts";
import type { ActualMember } from "./actual-state.ts";
import type { PlanAction, Reason } from "./plan.ts";

/** What a member will be able to do once the plan is applied. */
export interface FinalAccess {
  readonly active: boolean;
  readonly role: Role;
  readonly writableDomainIds: ReadonlySet<string>;
}

export function planKeyChanges(member: ActualMember, final: FinalAccess, policy: AccountPolicy, reason: Reason): PlanAction[] {
  const actions: PlanAction[] = [];
  for (const key of member.keys) {
    if (key.scope === "organization") {
      if (final.active && final.role !== "member") continue;
      // members cannot create organization-wide keys, so one held by a member dates from an admin
      // past: the policy for demoted and departed admins applies to it, on every plan alike
      if (policy.orgKeys === "keep-and-alert") {
        actions.push({ type: "alert", kind: "org_keys_kept", userId: member.userId, reason,
          detail: `organization-wide key ${key.keyId} of ${member.email} kept by policy (last used ${key.lastUsedAt ?? "never"})`,
          data: { keyId: key.keyId, lastUsedAt: key.lastUsedAt } });
        continue;
      }
      actions.push({ type: "revoke_key", userId: member.userId, keyId: key.keyId, reason });
      continue;
    }
    if (!final.active) {
      actions.push({ type: "revoke_key", userId: member.userId, keyId: key.keyId, reason });
      continue;
    }
    if (final.role !== "member") continue;
    const lost = key.domainIds.filter((d) => !final.writableDomainIds.has(d));
    if (lost.length === 0) continue;
    actions.push(lost.length === key.domainIds.length
      ? { type: "revoke_key", userId: member.userId, keyId: key.keyId, reason }
      : { type: "narrow_key", userId: member.userId, keyId: key.keyId, removeDomainIds: lost, reason });
  }
  return actions;
}
