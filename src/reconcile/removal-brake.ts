// The removal brake's policy: which actions take access away, the stable identity of each, and the
// verdict on a set of new removals — held when they, plus what the reconciler removed in the last
// window, would exceed max(minimum, percent % of active members). Additions are never held. Pure.
// What happens to held removals afterwards (versions, approvals, rejections) is held-change-set.ts.
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
export function countsTowardsBrake(action: PlanAction): boolean {
  return action.type === "suspend_member" || action.type === "delete_member" || action.type === "revoke_domain";
}

/**
 * A removal's identity, the same in every plan that wants the same thing taken away: what an operator
 * approves or rejects, and what "the removals that run showed" means in a later plan.
 */
export function removalKey(action: PlanAction): string {
  switch (action.type) {
    case "suspend_member": case "delete_member": case "revoke_sessions": case "revoke_invitations":
      return `${action.type}:${action.userId}`;
    case "revoke_domain": return `revoke_domain:${action.userId}:${action.domainId}`;
    case "revoke_key": return `revoke_key:${action.keyId}`;
    case "narrow_key": return `narrow_key:${action.keyId}:${[...action.removeDomainIds].sort().join(",")}`;
    case "change_role": return `change_role:${action.userId}:${action.from}:${action.to}`;
    case "change_access": return `change_access:${action.userId}:${action.domainId}:${action.to}`;
    default: throw new Error(`${action.type} is not a removal`);
  }
}

/** The person a removal takes access from (every removal acts on a member). */
export function removalUser(action: PlanAction): string {
  return (action as { userId: string }).userId;
}

export interface BrakeLimit {
  readonly limit: number;
  readonly minimum: number;
  readonly percent: number;
  readonly activeMembers: number;
  /** `activeMembers` is a lower bound, counted only as far as the verdict needed (then `limit` is one too). */
  readonly atLeast?: boolean;
  readonly windowMinutes: number;
}

export function brakeLimit(policy: AccountPolicy, activeMembers: number, atLeast = false): BrakeLimit {
  const { minimum, percent, windowMinutes } = policy.removalBrake;
  return { limit: Math.max(minimum, Math.floor((activeMembers * percent) / 100)), minimum, percent, activeMembers, windowMinutes, ...(atLeast ? { atLeast } : {}) };
}

/**
 * How many active members must be counted to decide the brake on at most `removals` counted removals
 * (this run's and the window's): none when the minimum already allows them, else as many as make
 * percent % of them allow them (then any more change no verdict); null: count them all (the verdict
 * may hold, and a held run's message shows the exact number). Counting a 100,000-member account on
 * every departure cost more than the rest of that person's reconcile.
 */
export function membersToCount(policy: AccountPolicy, removals: number): number | null {
  const { minimum, percent } = policy.removalBrake;
  if (removals <= minimum) return 0;
  return percent > 0 ? Math.ceil((removals * 100) / percent) : null;
}

export interface BrakeVerdict {
  readonly held: boolean;
  /** Counted removals new in this run. */
  readonly inRun: number;
  /** Counted removals the reconciler applied within the window before this run. */
  readonly inWindow: number;
  readonly limit: BrakeLimit;
  /** Says which numbers made the verdict, so an operator can check it. */
  readonly message: string;
}

export function describeLimit(limit: BrakeLimit): string {
  if (limit.atLeast && limit.activeMembers === 0) return `limit ${limit.limit} or more (the minimum ${limit.minimum} allows it; members not counted)`;
  if (limit.atLeast) return `limit ${limit.limit} or more (max(${limit.minimum}, ${limit.percent} % of at least ${limit.activeMembers} members))`;
  return `limit ${limit.limit} (max(${limit.minimum}, ${limit.percent} % of ${limit.activeMembers} members))`;
}

/** The brake on `inRun` new counted removals, given `inWindow` already applied in the window. */
export function brakeVerdict(inRun: number, inWindow: number, limit: BrakeLimit): BrakeVerdict {
  const total = inRun + inWindow;
  const held = inRun > 0 && total > limit.limit;
  const sum = `${inRun} removal${inRun === 1 ? "" : "s"} in this run + ${inWindow} applied in the last ${limit.windowMinutes} min = ${total}`;
  return { held, inRun, inWindow, limit, message: `${held ? "held" : "passed"}: ${sum} ${held ? ">" : "≤"} ${describeLimit(limit)}` };
}
