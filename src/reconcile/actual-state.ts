// The account's membership tables as plain data, as the planner compares them with the desired state.
import type { Access, Role } from "../mapping/mapping-rules.ts";

export interface ActualGrant {
  readonly domainId: string;
  readonly access: Access;
  /** Set by idsync from an IdP; manual grants are never touched. */
  readonly managed: boolean;
  /** The rule that granted it (managed grants): named on the audit row when it is taken away. */
  readonly rule?: string | null;
}

export interface ActualKey {
  readonly keyId: string;
  readonly scope: "organization" | "domains";
  readonly domainIds: readonly string[];
  readonly lastUsedAt: string | null;
}

export interface ActualMember {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly status: "active" | "suspended";
  /** ISO time the membership was suspended, when it is. */
  readonly suspendedAt: string | null;
  /** The connection whose IdP manages this membership; null for a manual member. */
  readonly managedBy: string | null;
  /** The rule that gave the membership its role: named on the audit rows when it is taken away. */
  readonly rule?: string | null;
  readonly grants: readonly ActualGrant[];
  /** The member's active (unrevoked) API keys in this account. */
  readonly keys: readonly ActualKey[];
  readonly activeSessions: number;
  /** Pending invitations the member sent. */
  readonly pendingInvitations: number;
}

export interface AppUser {
  readonly userId: string;
  readonly email: string;
}

export interface ActualState {
  readonly members: ReadonlyMap<string, ActualMember>;
  /** IdP user (snapshot id) → app user id. */
  readonly identities: ReadonlyMap<string, string>;
  /** App users by lower-cased email (any account): at least those the planner looks up (unlinked or changed IdP emails, the successor). */
  readonly usersByEmail: ReadonlyMap<string, AppUser>;
  /** Pending invitations addressed to an email, by lower-cased email. */
  readonly invitationsTo: ReadonlyMap<string, number>;
  /** The account's connection ids (to tell "managed here" from "managed elsewhere"). */
  readonly connectionIds: ReadonlySet<string>;
}
