// The removal brake's state machine against a small account model, over random sequences of source
// changes (including rewrites of the same facts), logins, rule changes (the brake's own settings),
// time passing, full and scoped reconciles, and operator approvals, rejections and lifts, per run and
// per person. The invariant, checked at every step: every applied removal either passed the brake when
// it was planned (the reconciler never removes more than the limit within the window) or was approved
// in a version that showed it; no rejected removal is applied while its person's facts are those the
// operator saw and the rejection stands; a new held version always holds something the current one
// did not (never two identical held runs).
import fc from "fast-check";
import { expect, test } from "vitest";
import { EMPTY_BRAKE_STATE, liftRejections, NEW_VERSION, reconcileStep, rejectVersion, type BrakeState, type PlannedRemoval } from "../../src/reconcile/held-change-set.ts";
import { brakeLimit, countsTowardsBrake, removalKey } from "../../src/reconcile/removal-brake.ts";
import { DEFAULT_POLICY } from "../../src/mapping/mapping-rules.ts";
import type { PlanAction } from "../../src/reconcile/plan.ts";

const PEOPLE = ["p0", "p1", "p2", "p3", "p4", "p5"];
const DOMAINS = ["d0", "d1"];

type Command =
  | { kind: "facts"; person: number; active: boolean; inGroup: boolean }
  | { kind: "login"; person: number }
  | { kind: "rules"; minimum: number; percent: number; windowMinutes: number }
  | { kind: "tick"; minutes: number }
  | { kind: "reconcile"; scope: number[] | null }
  | { kind: "approve"; version: number; person: number | null }
  | { kind: "reject"; version: number; person: number | null }
  | { kind: "lift"; person: number | null };

const person = fc.integer({ min: 0, max: PEOPLE.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("facts" as const), person, active: fc.boolean(), inGroup: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("login" as const), person }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rules" as const), minimum: fc.integer({ min: 0, max: 4 }), percent: fc.integer({ min: 0, max: 60 }), windowMinutes: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("reconcile" as const), scope: fc.option(fc.uniqueArray(person, { minLength: 1, maxLength: 3 }), { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("approve" as const), version: fc.nat(3), person: fc.option(person, { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("reject" as const), version: fc.nat(3), person: fc.option(person, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lift" as const), person: fc.option(person, { nil: null }) }) },
);

interface Member { status: "active" | "suspended"; grants: Set<string>; sessions: boolean }

/** The account: what the IdP says, what the membership tables hold, and the brake's state. */
class Model {
  facts = new Map(PEOPLE.map((p) => [p, { active: true, inGroup: true }]));
  members = new Map<string, Member>(PEOPLE.map((p) => [p, { status: "active", grants: new Set(DOMAINS), sessions: true }]));
  policy = { ...DEFAULT_POLICY, removalBrake: { minimum: 2, percent: 10, windowMinutes: 15 } };
  now = 0;
  brake: BrakeState = EMPTY_BRAKE_STATE;
  /** Times the reconciler (not an operator) applied counted removals. */
  reconcilerRemovals: number[] = [];
  nextRun = 1;
  // the oracle's records
  shownIn = new Map<string, PlannedRemoval[]>();
  /** Rejected removal keys by person, with whether that person's facts changed since the version shown. */
  rejected = new Map<string, { keys: Set<string>; changed: boolean }>();

  fingerprint(p: string): string {
    const f = this.facts.get(p)!;
    return `${f.active ? "active" : "inactive"}|${f.inGroup ? "in group" : "not in group"}`;
  }

  plan(scope: readonly string[]): { removals: PlannedRemoval[]; additions: Array<() => void> } {
    const removals: PlannedRemoval[] = [];
    const additions: Array<() => void> = [];
    for (const p of scope) {
      const f = this.facts.get(p)!;
      const m = this.members.get(p)!;
      const reason = { event: "test" };
      if (f.active && f.inGroup) {
        if (m.status === "suspended") additions.push(() => (m.status = "active"));
        for (const d of DOMAINS) if (!m.grants.has(d)) additions.push(() => m.grants.add(d));
        continue;
      }
      const actions: PlanAction[] = [];
      if (m.status === "active") actions.push({ type: "suspend_member", userId: p, reason });
      for (const d of m.grants) actions.push({ type: "revoke_domain", userId: p, domainId: d, reason });
      if (m.sessions) actions.push({ type: "revoke_sessions", userId: p, reason });
      for (const action of actions) removals.push({ key: removalKey(action), userId: p, counted: countsTowardsBrake(action), fingerprint: this.fingerprint(p), action });
    }
    return { removals, additions };
  }

  applyRemoval(r: PlannedRemoval): void {
    const m = this.members.get(r.userId)!;
    if (r.action.type === "suspend_member") m.status = "suspended";
    if (r.action.type === "revoke_domain") m.grants.delete(r.action.domainId);
    if (r.action.type === "revoke_sessions") m.sessions = false;
  }

  reconcile(scope: readonly string[], approval?: { runId: string; userId?: string }): void {
    const { removals, additions } = this.plan(scope);
    // what the current held version still holds undecided (a decision on part of it shrinks it)
    const currentKeys = new Set(this.brake.versions.at(-1)?.open.map((r) => r.key) ?? []);
    const activeMembers = [...this.members.values()].filter((m) => m.status === "active").length;
    const limit = brakeLimit(this.policy, activeMembers);
    const inWindow = this.reconcilerRemovals.filter((t) => t > this.now - limit.windowMinutes).length;
    const result = reconcileStep(this.brake, {
      removals, fingerprints: new Map(scope.map((p) => [p, this.fingerprint(p)])), inScope: (u) => scope.includes(u), limit, inWindow, approval,
    });

    // every applied removal was planned now, and either approved as shown or passed the brake
    const approvedKeys = new Set(result.approved.map((r) => r.key));
    const unapproved = result.apply.filter((r) => !approvedKeys.has(r.key));
    for (const r of result.apply) expect(removals.map((x) => x.key)).toContain(r.key);
    for (const r of result.approved) {
      expect(approval).toBeDefined();
      const shown = this.shownIn.get(approval!.runId)!.filter((x) => approval!.userId === undefined || x.userId === approval!.userId);
      expect(shown.map((x) => x.key)).toContain(r.key);
    }
    const counted = unapproved.filter((r) => r.counted).length;
    if (counted > 0) expect(counted + inWindow).toBeLessThanOrEqual(limit.limit);
    // nothing rejected is applied while the person's facts are those the operator saw
    for (const r of result.apply) {
      const rejection = this.rejected.get(r.userId);
      if (rejection && !rejection.changed) expect(rejection.keys.has(r.key)).toBe(false);
    }
    // never two identical held runs
    if (result.newVersion) {
      expect(result.newVersion.some((r) => !currentKeys.has(r.key))).toBe(true);
    }

    for (const r of result.apply) this.applyRemoval(r);
    for (const add of additions) add();
    for (let i = 0; i < counted; i++) this.reconcilerRemovals.push(this.now);
    this.brake = this.renameNew(result.state);
  }

  /** The shell's part: a new version gets a run id. */
  renameNew(state: BrakeState): BrakeState {
    if (!state.versions.some((v) => v.runId === NEW_VERSION)) return state;
    const runId = `run-${this.nextRun++}`;
    const versions = state.versions.map((v) => (v.runId === NEW_VERSION ? { ...v, runId } : v));
    this.shownIn.set(runId, [...versions.at(-1)!.open]);
    return { ...state, versions };
  }

  run(c: Command): void {
    switch (c.kind) {
      case "facts": {
        const p = PEOPLE[c.person]!;
        const before = this.fingerprint(p);
        this.facts.set(p, { active: c.active, inGroup: c.inGroup });
        const rejection = this.rejected.get(p);
        if (rejection && this.fingerprint(p) !== before) rejection.changed = true;
        return;
      }
      case "login": {
        const m = this.members.get(PEOPLE[c.person]!)!;
        if (m.status === "active") m.sessions = true;
        return;
      }
      case "rules":
        this.policy = { ...this.policy, removalBrake: { minimum: c.minimum, percent: c.percent, windowMinutes: c.windowMinutes } };
        return;
      case "tick":
        this.now += c.minutes;
        return;
      case "reconcile":
        return this.reconcile(c.scope ? c.scope.map((i) => PEOPLE[i]!) : PEOPLE);
      case "approve": {
        const version = this.brake.versions[c.version % Math.max(1, this.brake.versions.length)];
        if (!version) return;
        const userId = c.person === null ? undefined : PEOPLE[c.person]!;
        if (userId && !version.open.some((r) => r.userId === userId)) return;
        return this.reconcile(PEOPLE, { runId: version.runId, userId });
      }
      case "reject": {
        const version = this.brake.versions[c.version % Math.max(1, this.brake.versions.length)];
        if (!version) return;
        const userId = c.person === null ? undefined : PEOPLE[c.person]!;
        if (userId && !version.open.some((r) => r.userId === userId)) return;
        const result = rejectVersion(this.brake, version.runId, userId);
        for (const rejection of result.rejections) {
          const shown = this.shownIn.get(version.runId)!.filter((r) => r.userId === rejection.userId);
          this.rejected.set(rejection.userId, { keys: new Set(shown.map((r) => r.key)), changed: shown[0]!.fingerprint !== this.fingerprint(rejection.userId) });
        }
        this.brake = result.state;
        return;
      }
      case "lift": {
        const result = liftRejections(this.brake, c.person === null ? undefined : PEOPLE[c.person]!);
        for (const r of result.lifted) this.rejected.delete(r.userId);
        this.brake = result.state;
        return;
      }
    }
  }
}

test("the brake's invariant holds over 10,000 random sequences of changes, runs and decisions", () => {
  fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 30 }), (commands) => {
    const model = new Model();
    for (const c of commands) model.run(c);
    // and once everything is decided or lifted, a reconcile converges on what the IdP says
    for (const p of PEOPLE) model.run({ kind: "facts", person: PEOPLE.indexOf(p), active: true, inGroup: true });
    model.reconcile(PEOPLE);
    expect([...model.members.values()].every((m) => m.status === "active" && m.grants.size === DOMAINS.length)).toBe(true);
  }), { numRuns: 10_000, examples: [[[{ kind: "facts", person: 0, active: false, inGroup: true }, { kind: "reconcile", scope: null }, { kind: "facts", person: 0, active: false, inGroup: false }, { kind: "facts", person: 1, active: false, inGroup: false }, { kind: "reconcile", scope: null }, { kind: "reject", version: 0, person: null }, { kind: "reconcile", scope: null }]],
    // reject one person of a two-person version, lift, reconcile: the new version holds them again
    [[{ kind: "facts", person: 1, active: false, inGroup: false }, { kind: "facts", person: 0, active: false, inGroup: false }, { kind: "reconcile", scope: null },
      { kind: "reject", version: 0, person: 0 }, { kind: "lift", person: null }, { kind: "reconcile", scope: null }]]] as never });
});

test("two held versions: approving the older applies only what it showed; the newer stays held", () => {
  const model = new Model();
  model.policy = { ...model.policy, removalBrake: { minimum: 1, percent: 0, windowMinutes: 15 } };
  model.run({ kind: "facts", person: 0, active: false, inGroup: true });
  model.reconcile(PEOPLE);
  const [a] = model.brake.versions;
  model.run({ kind: "facts", person: 1, active: false, inGroup: true });
  model.reconcile(PEOPLE);
  expect(model.brake.versions.map((v) => v.runId)).toEqual([a!.runId, "run-2"]);
  // a reconcile with nothing new makes no third version
  model.reconcile(PEOPLE);
  expect(model.brake.versions).toHaveLength(2);
  model.reconcile(PEOPLE, { runId: a!.runId });
  expect(model.members.get("p0")!.status).toBe("suspended");
  expect(model.members.get("p1")!.status).toBe("active");
  expect(model.brake.versions.map((v) => v.runId)).toEqual(["run-2"]);
  expect(model.brake.versions[0]!.open.every((r) => r.userId === "p1")).toBe(true);
});

test("a rejection survives the window passing and a raised limit, and ends when the person's facts change", () => {
  const model = new Model();
  model.policy = { ...model.policy, removalBrake: { minimum: 1, percent: 0, windowMinutes: 15 } };
  model.run({ kind: "facts", person: 0, active: false, inGroup: true });
  model.reconcile(PEOPLE);
  model.run({ kind: "reject", version: 0, person: null });
  model.run({ kind: "tick", minutes: 60 });
  model.run({ kind: "rules", minimum: 100, percent: 100, windowMinutes: 15 });
  model.reconcile(PEOPLE);
  expect(model.members.get("p0")!.status).toBe("active");
  // a rewrite of the same facts is no change
  model.run({ kind: "facts", person: 0, active: false, inGroup: true });
  model.reconcile(["p0"]);
  expect(model.members.get("p0")!.status).toBe("active");
  // leaving the group too is
  model.run({ kind: "facts", person: 0, active: false, inGroup: false });
  model.reconcile(PEOPLE);
  expect(model.members.get("p0")!.status).toBe("suspended");
});
