// What a directory pull (Google Workspace, Microsoft Graph) hands the snapshot stage (defined here, where
// it is received, so sources import it downward): plain data keyed
// on the IdP's immutable ids, never on email. The snapshot stage writes it in one transaction; a pull
// that could not read everything throws (see pull-errors.ts) and hands over nothing.

/** A user as the directory describes them, in the shape the mapping rules read (SCIM User). */
export interface PulledUser {
  /** Google `user.id`, Graph object `id`. */
  readonly sourceId: string;
  /** Google `primaryEmail`, Graph `userPrincipalName`. */
  readonly userName: string;
  readonly email: string | null;
  readonly displayName: string | null;
  /** False when suspended or archived (Google) or `accountEnabled=false` (Graph). */
  readonly active: boolean;
  /** A SCIM User document (userName, name, emails, active, the enterprise extension's department…) for rule filters. */
  readonly resource: Record<string, unknown>;
}

export interface PulledGroup {
  /** Google `group.id`, Graph object `id`. */
  readonly sourceId: string;
  readonly displayName: string;
  /** Google groups are addressed by email; Graph `mail` when mail-enabled. */
  readonly email: string | null;
  readonly resource: Record<string, unknown>;
  /** How many direct members the directory says the group has (Google `directMembersCount`), when it says. */
  readonly memberCount?: number;
}

/** A direct membership; nesting is resolved by the mapping stage (cycle-safe). */
export interface PulledMembership {
  readonly groupSourceId: string;
  readonly memberSourceId: string;
  readonly memberType: "User" | "Group";
}

/** Everything in scope, read completely: the snapshot of this connection is replaced by it. */
export interface FullPull {
  readonly users: readonly PulledUser[];
  /** Users the directory reports deleted (Google `showDeleted=true`); their rows become tombstones. */
  readonly deletedUserSourceIds: readonly string[];
  readonly groups: readonly PulledGroup[];
  readonly memberships: readonly PulledMembership[];
  /** HTTP requests made, retries included. */
  readonly calls: number;
}

/** The cheap departure check: only users who are suspended, archived or deleted right now. */
export interface DeparturePull {
  /** Suspended or archived users (with their current attributes). */
  readonly inactiveUsers: readonly PulledUser[];
  readonly deletedUserSourceIds: readonly string[];
  readonly calls: number;
}

/** One Graph delta round over users and groups: only what changed since the stored delta links. */
export interface DeltaPull {
  readonly changedUsers: readonly PulledUser[];
  /** `@removed` users: `changed` is a soft delete (restorable 30 days), `deleted` is permanent. */
  readonly removedUsers: ReadonlyArray<{ readonly sourceId: string; readonly reason: "changed" | "deleted" }>;
  readonly changedGroups: readonly PulledGroup[];
  readonly removedGroupSourceIds: readonly string[];
  /** `members@delta` entries: added (no `@removed`) and removed memberships. */
  readonly addedMemberships: readonly PulledMembership[];
  readonly removedMemberships: readonly PulledMembership[];
  /** True when this round started without delta links (initial or forced resync): it lists everything. */
  readonly full: boolean;
  readonly usersDeltaLink: string;
  readonly groupsDeltaLink: string;
  readonly calls: number;
}

/**
 * A direct membership as a streaming full pull reads it, before the pull knows every user: `Everyone` (Google's
 * CUSTOMER member) stands for every active user pulled. Edges naming users or groups the pull does not hand over
 * are dropped when the staging is applied, as the in-memory pull drops them.
 */
export type StreamedMembership = PulledMembership | { readonly groupSourceId: string; readonly memberType: "Everyone" };

/** One page of a streaming full pull, in the order the source reads them (users before memberships). */
export type FullPullPage =
  | { readonly kind: "users"; readonly users: readonly PulledUser[] }
  | { readonly kind: "deletedUsers"; readonly sourceIds: readonly string[] }
  | { readonly kind: "groups"; readonly groups: readonly PulledGroup[] }
  | { readonly kind: "memberships"; readonly memberships: readonly StreamedMembership[] }
  /**
   * Taken back: a listing that reports removals as it goes (a Graph full delta round, where an object removed
   * while the round is walked comes as `@removed` after it was listed) says these are not in the directory,
   * unless a later page lists them again: the last word on each wins, as in the in-memory fold.
   */
  | { readonly kind: "unlisted"; readonly users: readonly string[]; readonly groups: readonly string[]; readonly memberships: readonly PulledMembership[] };

/**
 * A full pull read page by page: iterating it makes the requests; it throws (pull-errors.ts) as the in-memory pull
 * does, and a page already handed over proves nothing until the iteration ends without error. `calls` counts the
 * HTTP requests made so far (retries included).
 */
export interface FullPullStream extends AsyncIterable<FullPullPage> {
  readonly calls: number;
}
