// What an IdP assigned a user through the core multi-valued attributes `roles` (Entra app roles,
// Okta Identity Governance roles) and `entitlements` (RFC 7643 §4.1.2), read from the stored
// resource. Pure: plain data in, plain data out. The names idsync publishes on /Roles and
// /Entitlements (owner, admin, member; `<domain>:read`, `<domain>:write`) mean what they say.
import { DOMAIN_PATTERN } from "./domain-patterns.ts";
import { ROLE_RANK, type Access, type DomainGrantRule, type Role } from "./mapping-rules.ts";

/** The `type` Entra gives the app roles it provisions (the `AppRoleAssignmentsComplex` mapping). */
export const ENTRA_APP_ROLE_TYPE = "WindowsAzureActiveDirectoryRole";

export interface Assignment {
  readonly value: string;
  /** How plans, reviews and audit name where access came from, e.g. `Entra app role Admin`. */
  readonly provenance: string;
}

function values(resource: Record<string, unknown>, attribute: "roles" | "entitlements"): Array<{ value: string; type: unknown }> {
  const key = Object.keys(resource).find((k) => k.toLowerCase() === attribute);
  const list = key === undefined ? undefined : resource[key];
  if (!Array.isArray(list)) return [];
  return list.flatMap((e: unknown) => {
    const element = e as { value?: unknown; type?: unknown } | null;
    return typeof element?.value === "string" && element.value.trim() !== "" ? [{ value: element.value.trim(), type: element.type }] : [];
  });
}

/** The user's core `roles`, each with its provenance. */
export function assignedRoles(resource: Record<string, unknown>): Assignment[] {
  return values(resource, "roles").map(({ value, type }) =>
    ({ value, provenance: `${typeof type === "string" && type.toLowerCase() === ENTRA_APP_ROLE_TYPE.toLowerCase() ? "Entra app role" : "SCIM role"} ${value}` }));
}

/** The user's core `entitlements`, each with its provenance. */
export function assignedEntitlements(resource: Record<string, unknown>): Assignment[] {
  return values(resource, "entitlements").map(({ value }) => ({ value, provenance: `entitlement ${value}` }));
}

/** The account role a published role name stands for (`Admin` → admin), ignoring case. */
export function publishedRole(value: string): Role | undefined {
  const lower = value.toLowerCase();
  return lower in ROLE_RANK ? (lower as Role) : undefined;
}

/** The domain access a published entitlement name stands for (`mail.example.com:write`), ignoring case. */
export function publishedEntitlement(value: string): DomainGrantRule | undefined {
  const cut = value.lastIndexOf(":");
  const pattern = value.slice(0, cut).toLowerCase();
  const access = value.slice(cut + 1).toLowerCase();
  if (cut < 0 || !DOMAIN_PATTERN.test(pattern) || (access !== "read" && access !== "write")) return undefined;
  return { pattern, access: access as Access };
}

/** Whether a user carries an assignment of this value, and which element (the first) it is. */
export function findAssignment(assignments: readonly Assignment[], value: string): Assignment | undefined {
  const lower = value.toLowerCase();
  return assignments.find((a) => a.value.toLowerCase() === lower);
}
