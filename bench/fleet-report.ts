// The fleet benchmark's targets (issue 14) and which of them a run met. The correctness ones (no
// duplicate or missed run, no lost change, every departure revoked before its answer) fail the short
// run in CI; the timing ones and the balance of shares depend on the machine and only report.
import { sharesBalanced } from "./fleet-slots.ts";

export interface FleetFigures {
  readonly duplicateRuns: number;
  readonly missedAccounts: number;
  readonly shareFractions: readonly number[];
  readonly lostChanges: number;
  readonly revokedBeforeResponse: boolean;
  readonly deactivateRequestP99Ms: number | null;
  readonly groupChangeAppliedP99Ms: number | null;
  readonly rateLimitAcrossFleetRatio: number;
}

export const TARGETS = {
  duplicateRuns: "= 0",
  missedAccounts: "= 0",
  sharePerReplica: "each within 25 % of a third",
  lostChanges: "= 0",
  revokedBeforeResponse: "true for every deactivation",
  deactivateRequestP99Ms: "≤ 300",
  groupChangeAppliedP99Ms: "≤ 250",
  rateLimitAcrossFleetRatio: "≤ 1.1",
} as const;

/** The targets whose failure makes the short run (CI) exit non-zero. */
export const CORRECTNESS = ["duplicateRuns", "missedAccounts", "lostChanges", "revokedBeforeResponse"] as const;

export function targetsMet(f: FleetFigures): Record<keyof typeof TARGETS, boolean> {
  return {
    duplicateRuns: f.duplicateRuns === 0,
    missedAccounts: f.missedAccounts === 0,
    sharePerReplica: sharesBalanced(f.shareFractions),
    lostChanges: f.lostChanges === 0,
    revokedBeforeResponse: f.revokedBeforeResponse,
    deactivateRequestP99Ms: f.deactivateRequestP99Ms !== null && f.deactivateRequestP99Ms <= 300,
    groupChangeAppliedP99Ms: f.groupChangeAppliedP99Ms !== null && f.groupChangeAppliedP99Ms <= 250,
    rateLimitAcrossFleetRatio: f.rateLimitAcrossFleetRatio <= 1.1,
  };
}

/** The p-th percentile (nearest rank) of finite values, rounded to 0.1 ms; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return Number(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1));
}
