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

/** Person keys beside a snapshot's users, index for index (see IdentityResolution.personKeys). */
export type PersonKeys = ReadonlyArray<string | undefined>;

export interface IdentityResolution {
  /**
   * The person key of each IdP user, in the order of the users resolved (`personKeys[i]` is `users[i]`'s):
   * an app user id, `new:<email>` (to be created) or `conflict:<email>`; undefined for a deleted user
   * never linked. An array beside the users, not a map by IdP user id: the stages after this one walk the
   * same users in the same order, and a million-entry map cost a 1M-user plan 1.6 s to fill and read.
   */
  readonly personKeys: PersonKeys;
  readonly newPeople: ReadonlyMap<string, NewPerson>;
  /** link_identity actions (and conflicts, reported only for people who would get access). */
  readonly links: readonly PlanAction[];
  readonly conflicts: ReadonlyMap<string, { email: string; userId: string; idpUserIds: string[] }>;
}

export function resolveIdentities(users: readonly SnapshotUser[], actual: ActualState, policy: AccountPolicy): IdentityResolution {
  // filled in order, one entry per user (new Array(n) of a million would be a dictionary, not an array)
  const personKeys: Array<string | undefined> = [];
  const newPeople = new Map<string, NewPerson>();
  const links: PlanAction[] = [];
  const conflicts = new Map<string, { email: string; userId: string; idpUserIds: string[] }>();
  // wanted only for an unlinked IdP user whose email an app user has: built then (a linked account has none)
  let linkedHere: Set<string> | undefined;

  for (let i = 0; i < users.length; i++) {
    const user = users[i]!;
    const linked = actual.identities.get(user.id);
    if (linked) {
      personKeys[i] = linked;
      continue;
    }
    if (user.deleted) { // nothing to link: a deletion of someone never linked changes nothing
      personKeys[i] = undefined;
      continue;
    }
    const email = (user.email ?? user.userName).toLowerCase();
    const existing = actual.usersByEmail.get(email);
    if (!existing) {
      const key = `new:${email}`;
      const person = newPeople.get(key);
      // made with its first id: `[]` then push reserves 17 slots for the usual one
      if (person) person.idpUserIds.push(user.id);
      else newPeople.set(key, { email: user.email ?? user.userName, displayName: user.displayName, idpUserIds: [user.id] });
      personKeys[i] = key;
      continue;
    }
    const member = actual.members.get(existing.userId);
    linkedHere ??= new Set(actual.identities.values());
    const managedHere = linkedHere.has(existing.userId) || (member?.managedBy != null && actual.connectionIds.has(member.managedBy));
    if (managedHere || policy.linkByEmail) {
      links.push({ type: "link_identity", userId: existing.userId, idpUserId: user.id, via: managedHere ? "managed-email" : "policy-email",
        reason: { connectionIds: [user.connectionId], event: managedHere ? "same person, new IdP identity" : "link_by_email allows linking a manual user" } });
      personKeys[i] = existing.userId;
      continue;
    }
    const key = `conflict:${email}`;
    const conflict = conflicts.get(key) ?? { email, userId: existing.userId, idpUserIds: [] };
    conflict.idpUserIds.push(user.id);
    conflicts.set(key, conflict);
    personKeys[i] = key;
  }
  return { personKeys, newPeople, links, conflicts };
}
