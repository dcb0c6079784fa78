// How a rule names an IdP group: by our id, the IdP's id, its externalId, display name or (Google) email.
import type { SnapshotGroup } from "../snapshot/account-snapshot.ts";

export function groupMatches(group: SnapshotGroup, selector: string): boolean {
  const lower = selector.toLowerCase();
  return group.id === selector || group.sourceId === selector || group.externalId === selector ||
    group.displayName.toLowerCase() === lower || group.email?.toLowerCase() === lower;
}

/** Each group's selector keys → the groups' positions; built once per snapshot's group list. */
const selectorIndexes = new WeakMap<readonly SnapshotGroup[], Map<string, number[]>>();

function selectorIndex(groups: readonly SnapshotGroup[]): Map<string, number[]> {
  let index = selectorIndexes.get(groups);
  if (index) return index;
  index = new Map();
  const add = (key: string, position: number) => {
    const list = index!.get(key);
    if (!list) index!.set(key, [position]);
    else if (list.at(-1) !== position) list.push(position);
  };
  groups.forEach((g, position) => {
    add(`id:${g.id}`, position);
    add(`id:${g.sourceId}`, position);
    if (g.externalId !== null) add(`id:${g.externalId}`, position);
    add(`name:${g.displayName.toLowerCase()}`, position);
    if (g.email) add(`name:${g.email.toLowerCase()}`, position);
  });
  selectorIndexes.set(groups, index);
  return index;
}

/**
 * The groups `groupMatches` would pick, in the list's order, by look-up: every run matches each rule
 * against every group of the account (thousands), and even a one-person reconcile paid for it.
 */
export function groupsMatching(groups: readonly SnapshotGroup[], selector: string): SnapshotGroup[] {
  const index = selectorIndex(groups);
  const positions = new Set([...(index.get(`id:${selector}`) ?? []), ...(index.get(`name:${selector.toLowerCase()}`) ?? [])]);
  return [...positions].sort((a, b) => a - b).map((p) => groups[p]!);
}
