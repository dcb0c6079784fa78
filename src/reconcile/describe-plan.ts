// A plan as rows a person reads: who, what, why. Pure: names come in as a map.
import type { Plan, PlanAction } from "./plan.ts";

export interface PlanRow {
  readonly action: PlanAction["type"];
  readonly who: string;
  readonly what: string;
  readonly why: string;
}

export interface PlanNames {
  readonly users: ReadonlyMap<string, string>;
  readonly domains: ReadonlyMap<string, string>;
}

function what(action: PlanAction, domain: (id: string) => string, user: (id: string) => string): string {
  switch (action.type) {
    case "create_user": return `create app user ${action.email}`;
    case "link_identity": return `link IdP user ${action.idpUserId} (${action.via})`;
    case "update_email": return `email ${action.from} → ${action.to}`;
    case "add_member": return `add as ${action.role}`;
    case "change_role": return `${action.from} → ${action.to}`;
    case "transfer_ownership": return `ownership from ${action.from === null ? "nobody" : user(action.from)}`;
    case "grant_domain": return `${domain(action.domainId)}: ${action.access}`;
    case "change_access": return `${domain(action.domainId)}: ${action.from} → ${action.to}`;
    case "revoke_domain": return `${domain(action.domainId)}: revoked`;
    case "suspend_member": return "suspend membership";
    case "reactivate_member": return "reactivate membership";
    case "delete_member": return "delete membership";
    case "revoke_sessions": return "revoke sessions";
    case "revoke_invitations": return "revoke pending invitations";
    case "revoke_key": return `revoke key ${action.keyId}`;
    case "narrow_key": return `key ${action.keyId} loses ${action.removeDomainIds.map(domain).join(", ")}`;
    case "alert": return `alert ${action.kind}: ${action.detail}`;
  }
}

function who(action: PlanAction, user: (id: string) => string): string {
  if (action.type === "transfer_ownership") return user(action.to);
  if ("userKey" in action) return user(action.userKey);
  if ("userId" in action && action.userId) return user(action.userId);
  if (action.type === "create_user") return action.email;
  return "-";
}

export function describePlan(plan: Plan, names: PlanNames): PlanRow[] {
  const user = (id: string) => names.users.get(id) ?? (id.startsWith("new:") ? id.slice(4) : id);
  const domain = (id: string) => names.domains.get(id) ?? id;
  return plan.actions.map((action) => ({
    action: action.type,
    who: who(action, user),
    what: what(action, domain, user),
    why: [action.reason.rule ? `rule ${action.reason.rule}` : null, action.reason.event].filter(Boolean).join(": "),
  }));
}
