// The whole pure pipeline for one account: who is who → what the rules want → what to change.
import type { AccountSnapshot } from "../snapshot/account-snapshot.ts";
import type { MappingRules } from "../mapping/mapping-rules.ts";
import type { Domain } from "../mapping/domain-patterns.ts";
import { desiredState } from "../mapping/desired-state.ts";
import type { ActualState } from "./actual-state.ts";
import { resolveIdentities } from "./identity-resolution.ts";
import { planChanges } from "./plan-changes.ts";
import type { Plan } from "./plan.ts";

export interface AccountPlanInput {
  readonly snapshot: AccountSnapshot;
  readonly rules: MappingRules;
  readonly domains: readonly Domain[];
  readonly actual: ActualState;
  /** Epoch milliseconds. */
  readonly now: number;
}

export function planAccount({ snapshot, rules, domains, actual, now }: AccountPlanInput): Plan {
  const identities = resolveIdentities(snapshot.users, actual, rules.policy);
  const desired = desiredState(snapshot, rules, domains, identities.personOf);
  return planChanges({ desired, actual, identities, policy: rules.policy, now });
}
