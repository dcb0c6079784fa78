// The account's held change-set as a state machine. Pure: plain data in, plain data out; the database
// shell (brake-store.ts) loads the state, calls one transition, and writes what it returns.
//
// - Each version of the held change-set is a held run. Removals the brake holds later make a new
//   version holding the whole pending set; the older one is superseded but stays approvable for
//   exactly what it showed. A reconcile whose held set adds nothing to the current version makes no
//   new run (it is answered with the current one).
// - A person with removals waiting in some version stays waiting as a whole: their later removals
//   (a new session, a new key) join the held set rather than pass the brake on their own.
// - Approving a version (whole, or one person's part) applies exactly the removals it showed that the
//   current plan still wants, nothing else. Rejecting one keeps the person's access "by an operator's
//   decision" until their facts fingerprint differs from the one the version showed, or an operator
//   lifts the rejection. A change of the brake's own settings is not a fact change.
//
// The invariant (test/unit/held-change-set.test.ts): every applied removal either passed the brake
// when it was planned or was approved in a version that showed it, and no rejected removal is applied
// before its person's facts change or the rejection is lifted.
import type { PlanAction } from "./plan.ts";
import { brakeVerdict, type BrakeLimit, type BrakeVerdict } from "./removal-brake.ts";

export interface PlannedRemoval {
  /** removalKey(action) */
  readonly key: string;
  readonly userId: string;
  /** Counted by the brake (a membership or a grant lost). */
  readonly counted: boolean;
  /** The person's facts fingerprint when this removal was planned. */
  readonly fingerprint: string;
  readonly action: PlanAction;
}

/** What became of a removal a version showed. */
export type Decision =
  | "approved" // applied on an approval of this version
  | "applied" // applied on an approval of another version that showed it too
  | "rejected" // rejected (in this version or another): kept by an operator's decision
  | "gone"; // no longer in the plan: the person's facts changed, nothing to decide

export interface HeldVersion {
  readonly runId: string;
  /** Removals this version showed that are still undecided. */
  readonly open: readonly PlannedRemoval[];
  readonly approved: number;
  readonly rejected: number;
}

export interface Rejection {
  readonly userId: string;
  /** The fingerprint in the version the operator rejected: a different one ends the rejection. */
  readonly fingerprint: string;
  readonly runId: string;
  readonly keys: readonly string[];
}

export interface BrakeState {
  /** Open versions, oldest first; the last is the current one (status held, the others superseded). */
  readonly versions: readonly HeldVersion[];
  /** By user id. */
  readonly rejections: ReadonlyMap<string, Rejection>;
}

export type ClosedStatus = "approved" | "rejected" | "cleared";

export interface Settlement {
  readonly decisions: ReadonlyArray<{ readonly runId: string; readonly key: string; readonly decision: Decision }>;
  /** Versions with nothing left to decide, and the status they end in. */
  readonly closed: ReadonlyArray<{ readonly runId: string; readonly status: ClosedStatus }>;
}

export interface ReconcileStep {
  /** Every removal in this plan. */
  readonly removals: readonly PlannedRemoval[];
  /** Facts fingerprints of the people this plan covers whom a rejection keeps (at least those). */
  readonly fingerprints: ReadonlyMap<string, string>;
  /** Does this plan cover the user? (A scoped run plans some people only.) */
  readonly inScope: (userId: string) => boolean;
  readonly limit: BrakeLimit;
  /** Counted removals the reconciler applied within the brake's window. */
  readonly inWindow: number;
  /** An operator approves this version (or one person's part of it). */
  readonly approval?: { readonly runId: string; readonly userId?: string };
}

export interface StepResult extends Settlement {
  readonly state: BrakeState;
  /** Removals to apply now. */
  readonly apply: readonly PlannedRemoval[];
  /** The part of `apply` an operator approved. */
  readonly approved: readonly PlannedRemoval[];
  /** Planned but kept by an operator's decision. */
  readonly kept: readonly PlannedRemoval[];
  /** In the plan, waiting in a held version. */
  readonly withheld: readonly PlannedRemoval[];
  /** Rejections ended because the person's facts changed. */
  readonly lifted: readonly Rejection[];
  /** The brake on this run's new removals. */
  readonly verdict: BrakeVerdict;
  /** A new version to record (the whole pending set), or null. Its run id is NEW_VERSION in `state`. */
  readonly newVersion: readonly PlannedRemoval[] | null;
  /** The version that was current and is now superseded by the new one. */
  readonly superseded: string | null;
  /** The current version after this step (NEW_VERSION when a new one was made), or null. */
  readonly current: string | null;
}

/** Placeholder id of a version this step created; the shell substitutes the run it inserts. */
export const NEW_VERSION = "new";

export const EMPTY_BRAKE_STATE: BrakeState = { versions: [], rejections: new Map() };

export class RunNotOpenError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} has nothing left to approve or reject`);
    this.name = "RunNotOpenError";
  }
}

export class PersonNotInRunError extends Error {
  constructor(readonly runId: string, readonly userId: string) {
    super(`run ${runId} holds no undecided removal of that person`);
    this.name = "PersonNotInRunError";
  }
}

function versionOf(state: BrakeState, runId: string): HeldVersion {
  const version = state.versions.find((v) => v.runId === runId);
  if (!version) throw new RunNotOpenError(runId);
  return version;
}

/** The part of a version an operator decides on: all of it, or one person's removals. */
function shown(version: HeldVersion, userId?: string): PlannedRemoval[] {
  const part = version.open.filter((r) => userId === undefined || r.userId === userId);
  if (part.length === 0 && userId !== undefined) throw new PersonNotInRunError(version.runId, userId);
  return part;
}

/** Applies decisions to the versions and closes those with nothing left open. */
function settle(versions: readonly HeldVersion[], decide: (version: HeldVersion, removal: PlannedRemoval) => Decision | null):
  { versions: HeldVersion[]; settlement: Settlement } {
  const decisions: Array<{ runId: string; key: string; decision: Decision }> = [];
  const closed: Array<{ runId: string; status: ClosedStatus }> = [];
  const next: HeldVersion[] = [];
  for (const version of versions) {
    const open: PlannedRemoval[] = [];
    let { approved, rejected } = version;
    for (const removal of version.open) {
      const decision = decide(version, removal);
      if (decision === null) open.push(removal);
      else {
        decisions.push({ runId: version.runId, key: removal.key, decision });
        if (decision === "approved") approved++;
        if (decision === "rejected") rejected++;
      }
    }
    if (open.length > 0) next.push({ runId: version.runId, open, approved, rejected });
    else closed.push({ runId: version.runId, status: approved > 0 ? "approved" : rejected > 0 ? "rejected" : "cleared" });
  }
  return { versions: next, settlement: { decisions, closed } };
}

/** One reconcile of the account (or of some of its people), with or without an operator's approval. */
export function reconcileStep(state: BrakeState, step: ReconcileStep): StepResult {
  // a rejection lasts while the person's facts are those the operator saw
  const rejections = new Map(state.rejections);
  const lifted: Rejection[] = [];
  for (const rejection of state.rejections.values()) {
    if (!step.inScope(rejection.userId)) continue;
    if (step.fingerprints.get(rejection.userId) !== rejection.fingerprint) {
      lifted.push(rejection);
      rejections.delete(rejection.userId);
    }
  }
  const kept = step.removals.filter((r) => rejections.has(r.userId));
  const pending = step.removals.filter((r) => !rejections.has(r.userId));

  const approvedKeys = new Set(step.approval ? shown(versionOf(state, step.approval.runId), step.approval.userId).map((r) => r.key) : []);
  const approved = pending.filter((r) => approvedKeys.has(r.key));
  const heldKeys = new Set(state.versions.flatMap((v) => v.open.map((r) => r.key)));
  const heldPeople = new Set(state.versions.flatMap((v) => v.open.map((r) => r.userId)));
  const rest = pending.filter((r) => !approvedKeys.has(r.key));
  const carried = rest.filter((r) => heldKeys.has(r.key) || heldPeople.has(r.userId));
  const fresh = rest.filter((r) => !(heldKeys.has(r.key) || heldPeople.has(r.userId)));

  const verdict = brakeVerdict(fresh.filter((r) => r.counted).length, step.inWindow, step.limit);
  const apply = verdict.held ? approved : [...approved, ...fresh];
  const heldNow = verdict.held ? [...carried, ...fresh] : carried;
  const applyKeys = new Set(apply.map((r) => r.key));
  const plannedKeys = new Set(step.removals.map((r) => r.key));

  const { versions, settlement } = settle(state.versions, (version, removal) => {
    if (applyKeys.has(removal.key)) return step.approval?.runId === version.runId ? "approved" : "applied";
    if (rejections.has(removal.userId)) return "rejected";
    if (step.inScope(removal.userId) && !plannedKeys.has(removal.key)) return "gone";
    return null;
  });

  const previous = state.versions.at(-1);
  const currentKeys = new Set(previous?.open.map((r) => r.key) ?? []);
  const joins = heldNow.some((r) => !currentKeys.has(r.key));
  let newVersion: PlannedRemoval[] | null = null;
  if (joins) {
    // the whole pending set: this plan's held removals, and what waits for people this plan did not cover
    const whole = new Map(heldNow.map((r) => [r.key, r]));
    for (const version of [...versions].reverse()) {
      for (const r of version.open) if (!step.inScope(r.userId) && !whole.has(r.key)) whole.set(r.key, r);
    }
    newVersion = [...whole.values()];
    versions.push({ runId: NEW_VERSION, open: newVersion, approved: 0, rejected: 0 });
  }
  const superseded = joins && previous && versions.some((v) => v.runId === previous.runId) ? previous.runId : null;
  const withheldKeys = new Set(versions.flatMap((v) => v.open.map((r) => r.key)));
  return {
    state: { versions, rejections }, apply, approved, kept, lifted, verdict, newVersion, superseded,
    withheld: pending.filter((r) => !applyKeys.has(r.key) && withheldKeys.has(r.key)),
    current: versions.at(-1)?.runId ?? null,
    ...settlement,
  };
}

/** An operator rejects a version (or one person's part): those people keep their access for now. */
export function rejectVersion(state: BrakeState, runId: string, userId?: string): Settlement & { state: BrakeState; rejections: Rejection[] } {
  const part = shown(versionOf(state, runId), userId);
  const byUser = new Map<string, PlannedRemoval[]>();
  for (const r of part) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
  // the facts as last planned (the newest version holding the person), not as the rejected version showed
  // them: a change that came before the rejection must not end it
  const latest = (user: string, fallback: string): string =>
    [...state.versions].reverse().flatMap((v) => v.open).find((r) => r.userId === user)?.fingerprint ?? fallback;
  const added: Rejection[] = [...byUser].map(([user, removals]) => ({ userId: user, fingerprint: latest(user, removals[0]!.fingerprint), runId, keys: removals.map((r) => r.key) }));
  const rejections = new Map(state.rejections);
  for (const r of added) rejections.set(r.userId, r);
  const { versions, settlement } = settle(state.versions, (_version, removal) => (byUser.has(removal.userId) ? "rejected" : null));
  return { state: { versions, rejections }, rejections: added, ...settlement };
}

/** An operator lifts rejections (all, or one person's): the next reconcile plans those removals again, through the brake. */
export function liftRejections(state: BrakeState, userId?: string): { state: BrakeState; lifted: Rejection[] } {
  const lifted = [...state.rejections.values()].filter((r) => userId === undefined || r.userId === userId);
  const rejections = new Map(state.rejections);
  for (const r of lifted) rejections.delete(r.userId);
  return { state: { versions: state.versions, rejections }, lifted };
}
