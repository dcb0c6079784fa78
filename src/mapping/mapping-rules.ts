// Mapping rules: how an account turns what its IdPs say into Postscale roles and domain access.
// Plain data, parsed from the account's rules document (YAML or JSON) by rules-document.ts.

export type Role = "owner" | "admin" | "member";
export type Access = "read" | "write";

/** However a role arrives (a rule, the idsync extension, core `roles`), the highest wins. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { owner: 3, admin: 2, member: 1 };

export interface DomainGrantRule {
  /** A sending domain, or a pattern such as `*.staging.example.com`. */
  readonly pattern: string;
  readonly access: Access;
}

/**
 * One rule. It matches an IdP user by group, by a SCIM filter over the user, by an app role or an
 * entitlement the IdP assigned (core `roles` / `entitlements`), or takes access from the user's attributes.
 */
export interface MappingRule {
  readonly name: string;
  /** The line the rule starts on in its document, for messages. */
  readonly line: number;
  /** IdP group id, display name or (Google) group email; transitive membership counts. */
  readonly group?: string;
  /** A SCIM filter over the IdP user, e.g. `urn:…:enterprise:2.0:User:department eq "Support"`. */
  readonly filter?: string;
  /**
   * Take role and domain grants from the user's attributes: the idsync extension, and core `roles` and
   * `entitlements` that name what /Roles and /Entitlements publish (owner, admin, member; `<domain>:read|write`).
   */
  readonly attributes?: boolean;
  /** A value of the user's core `roles` (an Entra app role, e.g. `Admin`), matched ignoring case. */
  readonly appRole?: string;
  /** A value of the user's core `entitlements` (e.g. Okta's `mail.example.com:write`), matched ignoring case. */
  readonly entitlement?: string;
  readonly role?: Role;
  readonly domains: readonly DomainGrantRule[];
}

export interface AccountPolicy {
  /** Email of the admin who becomes owner if the owner departs. */
  readonly ownerSuccessor: string | null;
  /** What happens to a demoted or departed admin's organization-wide keys. */
  readonly orgKeys: "revoke" | "keep-and-alert";
  /**
   * Removals are held for approval when those of a run plus those the reconciler applied in the last
   * `windowMinutes` would exceed max(minimum, percent % of active members).
   */
  readonly removalBrake: { readonly minimum: number; readonly percent: number; readonly windowMinutes: number };
  /** How long a departed member's suspended membership is kept so a reactivation is recognised. */
  readonly retentionDays: number;
  /** May an IdP user be linked to a pre-existing (manually added) app user with the same email? */
  readonly linkByEmail: boolean;
}

export interface MappingRules {
  readonly rules: readonly MappingRule[];
  /** Users the IdP assigns who match no rule. */
  readonly defaultRole: "none" | "member";
  readonly policy: AccountPolicy;
}

export const DEFAULT_POLICY: AccountPolicy = Object.freeze({
  ownerSuccessor: null,
  orgKeys: "revoke",
  removalBrake: Object.freeze({ minimum: 10, percent: 10, windowMinutes: 15 }),
  retentionDays: 30,
  linkByEmail: false,
});

/** What an account has before anyone sets rules: nothing is granted. */
export const EMPTY_RULES: MappingRules = Object.freeze({ rules: [], defaultRole: "none", policy: DEFAULT_POLICY });
