// Who is who: each IdP user is linked to one app user by the IdP's immutable id. After the first link
// an email change updates that app user; it never creates a second one. An unlinked IdP user is linked
// by email only to an app user this account's IdPs already manage, or, where the rules allow it, to a
// manually added one (audited). Anything else is a conflict reported to the admin, never a takeover.
import type { SnapshotUser } from "../snapshot/account-snapshot.ts";
import type { AccountPolicy } from "../mapping/mapping-rules.ts";
import type { ActualState } from "./actual-state.ts";
import type { PlanAction } from "./plan.ts";

export interface NewPerson {
  readonly email: string;
  readonly displayName: string | null;
  readonly idpUserIds: string[];
}

export interface IdentityResolution {
  /** IdP user → person key: an app user id, `new:<email>` (to be created) or `conflict:<email>`. */
  readonly personOf: ReadonlyMap<string, string>;
  readonly newPeople: ReadonlyMap<string, NewPerson>;
  /** link_identity actions (and conflicts, reported only for people who would get access). */
  readonly links: readonly PlanAction[];
  readonly conflicts: ReadonlyMap<string, { email: string; userId: string; idpUserIds: string[] }>;
}

export function resolveIdentities(users: readonly SnapshotUser[], actual: ActualState, policy: AccountPolicy): IdentityResolution {
  const personOf = new Map<string, string>();
  const newPeople = new Map<string, NewPerson>();
  const links: PlanAction[] = [];
  const conflicts = new Map<string, { email: string; userId: string; idpUserIds: string[] }>();
  // wanted only for an unlinked IdP user whose email an app user has: built then (a linked account has none)
  let linkedHere: Set<string> | undefined;

  for (const user of users) {
    const linked = actual.identities.get(user.id);
    if (linked) {
      personOf.set(user.id, linked);
      continue;
    }
    if (user.deleted) continue; // nothing to link: a deletion of someone never linked changes nothing
    const email = (user.email ?? user.userName).toLowerCase();
    const existing = actual.usersByEmail.get(email);
    if (!existing) {
      const key = `new:${email}`;
      const person = newPeople.get(key) ?? { email: user.email ?? user.userName, displayName: user.displayName, idpUserIds: [] };
      person.idpUserIds.push(user.id);
      newPeople.set(key, person);
      personOf.set(user.id, key);
      continue;
    }
    const member = actual.members.get(existing.userId);
    linkedHere ??= new Set(actual.identities.values());
    const managedHere = linkedHere.has(existing.userId) || (member?.managedBy != null && actual.connectionIds.has(member.managedBy));
    if (managedHere || policy.linkByEmail) {
      links.push({ type: "link_identity", userId: existing.userId, idpUserId: user.id, via: managedHere ? "managed-email" : "policy-email",
        reason: { connectionIds: [user.connectionId], event: managedHere ? "same person, new IdP identity" : "link_by_email allows linking a manual user" } });
      personOf.set(user.id, existing.userId);
      continue;
    }
    const key = `conflict:${email}`;
    const conflict = conflicts.get(key) ?? { email, userId: existing.userId, idpUserIds: [] };
    conflict.idpUserIds.push(user.id);
    conflicts.set(key, conflict);
    personOf.set(user.id, key);
  }
  return { personOf, newPeople, links, conflicts };
}
