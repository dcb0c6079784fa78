// The only writer of the membership tables. Every action runs inside the caller's transaction and
// writes, in it, an audit row (connection, rule, run, before → after) and an event for the outbox.
// A failure anywhere rolls the whole plan back: a half-applied plan never exists.
//
// The planner orders actions by type (users before memberships before grants…), so a plan is a few
// runs of one type each, and each run is applied as a handful of set-based statements (one array per
// column, read with unnest) rather than one statement per action: a first import of 100,000 people
// takes seconds, not minutes.
import type { Executor } from "../snapshot/connection-scope.ts";
import type { PlanAction } from "./plan.ts";
import { APPLY_BATCH, ApplyState, type ApplyContext } from "./apply-batches.ts";

export type { ApplyContext } from "./apply-batches.ts";

/** Consecutive actions of one type. */
function runsOfOneType(actions: readonly PlanAction[]): PlanAction[][] {
  const runs: PlanAction[][] = [];
  for (const action of actions) {
    const last = runs.at(-1);
    if (last && last[0]!.type === action.type) last.push(action);
    else runs.push([action]);
  }
  return runs;
}

/** Applies a plan's actions in order; returns how many there were. */
export async function applyPlan(trx: Executor, actions: readonly PlanAction[], ctx: ApplyContext): Promise<number> {
  const state = new ApplyState(trx, ctx);
  for (const run of runsOfOneType(actions)) await APPLY_BATCH[run[0]!.type](state, run as never);
  await state.flushRecords();
  return actions.length;
}
