// Which open alerts a plan resolves: those of a kind the planner states that it no longer states — all
// of them after a plan of the whole account, only those about people it planned after a scoped one.
import { expect, test } from "vitest";
import { coverageOf, staleAlerts, type OpenAlert } from "../../src/reconcile/stale-alerts.ts";
import type { Plan, PlanAction } from "../../src/reconcile/plan.ts";
import { actual, member } from "../support/plan-fixtures.ts";

const alert = (id: string, kind: string, userId: string | null, detail = `${kind} ${userId}`): OpenAlert => ({ id, kind, userId, detail });
const stating = (...open: OpenAlert[]): Plan => ({
  actions: open.map((a): PlanAction => ({ type: "alert", kind: a.kind as never, ...(a.userId ? { userId: a.userId } : {}), detail: a.detail, reason: { event: "test" } })),
  manualMembers: [], warnings: [],
});

const conflictA = alert("1", "manual_user_conflict", "u-a");
const conflictB = alert("2", "manual_user_conflict", "u-b");
const noOwner = alert("3", "owner_missing", null);
const held = alert("4", "run_held", null);
const pull = alert("5", "pull_failed", null);

test("a plan of the whole account resolves the planner's alerts it no longer states, and only those", () => {
  expect(staleAlerts([conflictA, conflictB, noOwner, held, pull], stating(conflictB), { whole: true }).map((a) => a.id)).toEqual(["1", "3"]);
});

test("the same kind and person with another detail is another alert: the old one resolves", () => {
  const changed = alert("6", "org_keys_kept", "u-a", "kept (last used never)");
  expect(staleAlerts([changed], stating(alert("x", "org_keys_kept", "u-a", "kept (last used today)")), { whole: true })).toEqual([changed]);
  expect(staleAlerts([changed], stating(changed), { whole: true })).toEqual([]);
});

test("a scoped plan resolves only alerts about the people it covered, never an account-wide one", () => {
  expect(staleAlerts([conflictA, conflictB, noOwner], stating(), { whole: false, userIds: new Set(["u-a"]) })).toEqual([conflictA]);
});

test("a scoped plan covers its members and the users it links or matches by email; an unscoped one the whole account", () => {
  const state = actual([member("a", "member")], { users: ["b"] });
  const coverage = coverageOf(state, true);
  expect(coverage.whole ? [] : [...coverage.userIds].sort()).toEqual(["u-a", "u-b"]);
  expect(coverageOf(state, false)).toEqual({ whole: true });
});
