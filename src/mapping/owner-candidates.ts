// Who could an account's rules make owner? A scoped reconcile must see every such person, because
// ownership depends on all of them at once (two candidates are a conflict; the last one leaving ends it).
// Owner rules by group bound the candidates to those groups' transitive members and owner roles taken
// from the attributes (idsync extension, core roles) to users carrying them; an owner rule by filter, app
// role or entitlement can match anyone.
import type { SnapshotEdge, SnapshotGroup } from "../snapshot/account-snapshot.ts";
import type { MappingRules } from "./mapping-rules.ts";
import { groupsMatching } from "./group-selector.ts";

export interface OwnerCandidateSources {
  /** Groups whose user members (direct) are candidates: the owner rules' groups and every group nested in them. */
  readonly groupIds: ReadonlySet<string>;
  /** Users whose idsync extension says `role: owner`, or whose core `roles` name owner, are candidates (an `attributes` rule exists). */
  readonly byAttributes: boolean;
}

/** The candidate sources, or null when an owner rule is a filter and anyone may be a candidate. */
export function ownerCandidateSources(rules: MappingRules, groups: readonly SnapshotGroup[], groupEdges: readonly SnapshotEdge[]): OwnerCandidateSources | null {
  const roots = new Set<string>();
  let byAttributes = false;
  for (const rule of rules.rules) {
    if (rule.attributes) byAttributes = true;
    if (rule.role !== "owner") continue;
    // a filter, an app role or an entitlement can match anyone
    if (rule.filter !== undefined || rule.appRole !== undefined || rule.entitlement !== undefined) return null;
    if (rule.group !== undefined) for (const g of groupsMatching(groups, rule.group)) roots.add(g.id);
  }
  const children = new Map<string, string[]>();
  for (const { groupId, memberId } of groupEdges) children.set(groupId, [...(children.get(groupId) ?? []), memberId]);
  const groupIds = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (groupIds.has(id)) continue; // cycle-safe
    groupIds.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return { groupIds, byAttributes };
}
