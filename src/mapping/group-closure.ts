// Transitive group membership, resolved locally and safe against cycles (IdPs reject most cycles;
// a snapshot assembled from several pulls may still hold one). What the rules need is not every group
// a user is in but which group rules match them, so the closure is taken once per group (thousands),
// not once per user (a hundred thousand): a user's matches are the union over their direct groups.
import type { SnapshotEdge } from "../snapshot/account-snapshot.ts";

const NONE: ReadonlySet<number> = new Set();

/**
 * Returns `rulesMatching(memberId)`: the indexes of the rules whose groups (`ruleGroups[i]`, undefined
 * for rules that name no group) contain the member, directly or through nested groups.
 */
export function groupRuleMatcher(edges: readonly SnapshotEdge[], ruleGroups: ReadonlyArray<ReadonlySet<string> | undefined>): (memberId: string) => ReadonlySet<number> {
  const parents = new Map<string, string[]>();
  for (const { groupId, memberId } of edges) {
    const list = parents.get(memberId);
    if (list) list.push(groupId);
    else parents.set(memberId, [groupId]);
  }
  const rulesNaming = new Map<string, number[]>();
  ruleGroups.forEach((groups, index) => {
    for (const g of groups ?? []) rulesNaming.set(g, [...(rulesNaming.get(g) ?? []), index]);
  });

  const byGroup = new Map<string, ReadonlySet<number>>();
  /** Rules matched by being in `group`: those naming it or any group it is nested in. */
  const rulesOfGroup = (group: string): ReadonlySet<number> => {
    const known = byGroup.get(group);
    if (known) return known;
    const matched = new Set<number>();
    const seen = new Set<string>();
    const stack = [group];
    while (stack.length) {
      const g = stack.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      for (const rule of rulesNaming.get(g) ?? []) matched.add(rule);
      for (const parent of parents.get(g) ?? []) stack.push(parent);
    }
    const result = matched.size === 0 ? NONE : matched;
    byGroup.set(group, result);
    return result;
  };

  return (memberId) => {
    const direct = parents.get(memberId);
    if (!direct) return NONE;
    let union: Set<number> | undefined;
    let only: ReadonlySet<number> = NONE;
    for (const group of direct) {
      const rules = rulesOfGroup(group);
      if (rules.size === 0) continue;
      if (only.size === 0) {
        only = rules;
        continue;
      }
      union ??= new Set(only);
      for (const rule of rules) union.add(rule);
    }
    return union ?? only;
  };
}

/**
 * The groups whose members some group rule can match: the rules' groups and every group nested in them
 * (cycle-safe). A user's memberships of any other group match no rule, so a plan needs only the user
 * edges into these: in a large directory a few percent of them.
 */
export function groupsUnderRules(ruleGroupIds: Iterable<string>, groupEdges: readonly SnapshotEdge[]): Set<string> {
  const children = new Map<string, string[]>();
  for (const { groupId, memberId } of groupEdges) {
    const list = children.get(groupId);
    if (list) list.push(memberId);
    else children.set(groupId, [memberId]);
  }
  const under = new Set<string>();
  const stack = [...ruleGroupIds];
  while (stack.length) {
    const id = stack.pop()!;
    if (under.has(id)) continue;
    under.add(id);
    for (const child of children.get(id) ?? []) stack.push(child);
  }
  return under;
}
