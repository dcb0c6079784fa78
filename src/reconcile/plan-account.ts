// The whole pure pipeline for one account: who is who → what the rules want → what to change, and the
// facts each person's removals depend on (for the removal brake's rejections).
import type { AccountSnapshot } from "../snapshot/account-snapshot.ts";
import type { MappingRules } from "../mapping/mapping-rules.ts";
import type { Domain } from "../mapping/domain-patterns.ts";
import { desiredState } from "../mapping/desired-state.ts";
import type { ActualState } from "./actual-state.ts";
import { resolveIdentities } from "./identity-resolution.ts";
import { planChanges } from "./plan-changes.ts";
import type { Plan } from "./plan.ts";
import { factsFingerprinter } from "./removal-facts.ts";

export interface AccountPlanInput {
  readonly snapshot: AccountSnapshot;
  readonly rules: MappingRules;
  readonly domains: readonly Domain[];
  readonly actual: ActualState;
  /** Epoch milliseconds. */
  readonly now: number;
}

export function planAccount(input: AccountPlanInput): Plan {
  return planAccountWithFacts(input).plan;
}

/** The plan, and `factsOf(userId)`: the facts fingerprint of a member it covers, computed when asked for. */
type PlanWithFacts = { plan: Plan; factsOf: (userId: string) => string };

/** The pipeline's steps, pausing (yield) between them so a caller may give the event loop a turn. */
function* planSteps({ snapshot, rules, domains, actual, now }: AccountPlanInput): Generator<void, PlanWithFacts> {
  const identities = resolveIdentities(snapshot.users, actual, rules.policy);
  yield;
  const desired = desiredState(snapshot, rules, domains, identities.personKeys);
  yield;
  const plan = planChanges({ desired, actual, identities, policy: rules.policy, now });
  yield;
  return { plan, factsOf: factsFingerprinter(snapshot, rules, identities.personKeys) };
}

export function planAccountWithFacts(input: AccountPlanInput): PlanWithFacts {
  const steps = planSteps(input);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * The same, awaiting `pause` between the steps. A 100,000-user account's plan was ~1.8 s of JavaScript
 * (measured with monitorEventLoopDelay), now a few hundred ms; in one piece it would still hold up every
 * SCIM request the process answers meanwhile, departures included. Each step stays a plain function of plain data.
 */
export async function planAccountWithFactsInTurns(input: AccountPlanInput, pause: () => Promise<void>): Promise<PlanWithFacts> {
  const steps = planSteps(input);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await pause();
  }
}
