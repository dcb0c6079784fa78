// The removal brake: when a run (with the removals of the last 15 minutes) would take away more than
// the account allows — default max(10, 10 % of members) — its removals wait for an operator's
// approval. Additions are never held. Pure.
import type { AccountPolicy } from "../mapping/mapping-rules.ts";
import type { PlanAction } from "./plan.ts";

/** Actions that take access away (held by the brake). */
export function isRemoval(action: PlanAction): boolean {
  switch (action.type) {
    case "suspend_member": case "delete_member": case "revoke_domain": case "revoke_sessions":
    case "revoke_invitations": case "revoke_key": case "narrow_key":
      return true;
    case "change_role":
      return action.to === "member" || (action.to === "admin" && action.from === "owner");
    case "change_access":
      return action.to === "read";
    default:
      return false;
  }
}

/** Removals the brake counts: memberships and grants lost (sessions and keys follow them). */
function countsTowardsBrake(action: PlanAction): boolean {
  return action.type === "suspend_member" || action.type === "delete_member" || action.type === "revoke_domain";
}

export interface BrakeVerdict {
  readonly held: boolean;
  readonly removals: number;
  readonly limit: number;
  /** What may run now: everything, or everything but the removals. */
  readonly proceed: PlanAction[];
  readonly withheld: PlanAction[];
}

export function applyRemovalBrake(actions: readonly PlanAction[], activeMembers: number, policy: AccountPolicy, recentRemovals: number): BrakeVerdict {
  const limit = Math.max(policy.removalBrake.minimum, Math.floor((activeMembers * policy.removalBrake.percent) / 100));
  const removals = actions.filter(countsTowardsBrake).length;
  if (removals === 0 || removals + recentRemovals <= limit) return { held: false, removals, limit, proceed: [...actions], withheld: [] };
  return { held: true, removals, limit, proceed: actions.filter((a) => !isRemoval(a)), withheld: actions.filter(isRemoval) };
}
