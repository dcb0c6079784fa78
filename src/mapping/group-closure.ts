// Transitive group membership, resolved locally and safe against cycles (IdPs reject most cycles;
// a snapshot assembled from several pulls may still hold one).
import type { SnapshotEdge } from "../snapshot/account-snapshot.ts";

/** Returns `groupsOf(memberId)`: every group the member is in, directly or through nested groups. */
export function groupClosure(edges: readonly SnapshotEdge[]): (memberId: string) => ReadonlySet<string> {
  const parents = new Map<string, string[]>();
  for (const { groupId, memberId } of edges) {
    const list = parents.get(memberId);
    if (list) list.push(groupId);
    else parents.set(memberId, [groupId]);
  }
  const memo = new Map<string, ReadonlySet<string>>();
  const EMPTY: ReadonlySet<string> = new Set();
  return (memberId) => {
    const cached = memo.get(memberId);
    if (cached) return cached;
    const direct = parents.get(memberId);
    if (!direct) return EMPTY;
    const seen = new Set<string>();
    const stack = [...direct];
    while (stack.length) {
      const group = stack.pop()!;
      if (seen.has(group)) continue;
      seen.add(group);
      const known = memo.get(group);
      if (known) for (const g of known) seen.add(g);
      else for (const parent of parents.get(group) ?? []) stack.push(parent);
    }
    memo.set(memberId, seen);
    return seen;
  };
}
