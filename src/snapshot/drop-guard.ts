// Fail closed on suspicious source data: tools in this field have deleted whole directories after one
// empty or truncated answer. A pull whose result has sharply fewer active users or memberships than
// the last pull that was written (more than maxDropPercent, and at least MIN_SUSPICIOUS_DROP) is
// refused before anything reaches the planner. Pure.

export interface SnapshotCounts {
  readonly users: number;
  readonly memberships: number;
}

/** A drop of fewer than this many is ordinary churn at any size (a small team losing two people is 20 %). */
export const MIN_SUSPICIOUS_DROP = 10;

/** Why the new counts are not believable, or null when they are. */
export function suspiciousDrop(lastGood: SnapshotCounts | null, now: SnapshotCounts, maxDropPercent: number): string | null {
  if (now.users === 0 && (lastGood === null || lastGood.users > 0)) return "the directory returned no active users";
  if (lastGood === null) return null;
  for (const what of ["users", "memberships"] as const) {
    const before = lastGood[what];
    if (before === 0 || before - now[what] < MIN_SUSPICIOUS_DROP) continue;
    const drop = ((before - now[what]) / before) * 100;
    if (drop > maxDropPercent) {
      return `${what} in scope fell from ${before} to ${now[what]} (${drop.toFixed(1)} % fewer; the limit is ${maxDropPercent} %): ` +
        `if the directory really shrank, run it once with idsync sync --connection <id> --max-drop-percent <n>`;
    }
  }
  return null;
}
