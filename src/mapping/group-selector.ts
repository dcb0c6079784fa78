// How a rule names an IdP group: by our id, the IdP's id, its externalId, display name or (Google) email.
import type { SnapshotGroup } from "../snapshot/account-snapshot.ts";

export function groupMatches(group: SnapshotGroup, selector: string): boolean {
  const lower = selector.toLowerCase();
  return group.id === selector || group.sourceId === selector || group.externalId === selector ||
    group.displayName.toLowerCase() === lower || group.email?.toLowerCase() === lower;
}
