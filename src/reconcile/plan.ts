// A plan is a value: typed actions, each with the reason that caused it. A dry run prints it; the
// applier executes it; nothing else changes membership tables.
import type { Access, Role } from "../mapping/mapping-rules.ts";
import type { RuleWarning } from "../mapping/desired-state.ts";

/** Why an action is in the plan. */
export interface Reason {
  readonly rule?: string | null;
  readonly connectionIds?: readonly string[];
  readonly event: string;
}

export type PlanAction =
  | { type: "create_user"; key: string; email: string; displayName: string | null; idpUserIds: readonly string[]; reason: Reason }
  | { type: "link_identity"; userId: string; idpUserId: string; via: "managed-email" | "policy-email"; reason: Reason }
  /** The IdP changed a linked person's email (same immutable id): the app user follows, never a second user. */
  | { type: "update_email"; userId: string; from: string; to: string; reason: Reason }
  | { type: "add_member"; userKey: string; role: Role; reason: Reason }
  | { type: "change_role"; userId: string; from: Role; to: Role; reason: Reason }
  /** `from` is null when the account had no owner (the database allows that only without members). */
  | { type: "transfer_ownership"; from: string | null; to: string; reason: Reason }
  | { type: "grant_domain"; userKey: string; domainId: string; access: Access; reason: Reason }
  | { type: "change_access"; userId: string; domainId: string; from: Access; to: Access; reason: Reason }
  | { type: "revoke_domain"; userId: string; domainId: string; reason: Reason }
  | { type: "suspend_member"; userId: string; reason: Reason }
  | { type: "reactivate_member"; userId: string; reason: Reason }
  | { type: "delete_member"; userId: string; reason: Reason }
  | { type: "revoke_sessions"; userId: string; reason: Reason }
  | { type: "revoke_invitations"; userId: string; email: string; reason: Reason }
  | { type: "revoke_key"; userId: string; keyId: string; reason: Reason }
  | { type: "narrow_key"; userId: string; keyId: string; removeDomainIds: readonly string[]; reason: Reason }
  | { type: "alert"; kind: AlertKind; userId?: string; detail: string; data?: Record<string, unknown>; reason: Reason };

export type AlertKind = "owner_departed" | "owner_missing" | "owner_conflict" | "org_keys_kept" | "manual_user_conflict" | "email_conflict"
  /** An IdP attribute value that grants nothing (an unknown idsync role or access). */
  | "unknown_attribute_value";

export interface Plan {
  readonly actions: readonly PlanAction[];
  /** Members present in the account that no IdP manages: reported, never touched. */
  readonly manualMembers: readonly string[];
  /** Rules naming groups or domains that do not exist: shown with the plan, never fatal. */
  readonly warnings: readonly RuleWarning[];
}

/**
 * The actions that change something. Alerts about lasting conditions (a conflict, a kept key) are
 * re-stated by every plan and raised once by the applier, so "nothing to do" means no changes.
 */
export function changesOf(plan: Plan): PlanAction[] {
  return plan.actions.filter((a) => a.type !== "alert");
}
