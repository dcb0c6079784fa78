// The fleet benchmark's verdict on full reconciles, from the replicas' "full reconcile done" lines
// alone (pure): how often each account ran in each measured slot, duplicates, misses, and how the
// jobs were shared among the replicas. A run counts for the slot it names, whoever ran it and
// whenever it finished (a job retried after its replica was killed still counts once for its slot).

/** One "full reconcile done" line: the contract every replica logs, today's scheduler and the queue alike. */
export interface FullReconcileDone {
  readonly accountId: string;
  /** ISO time of the slot's start (the cron firing, floored to the minute). */
  readonly slot: string;
  readonly replica: string;
}

export interface SlotVerdict {
  /** Runs of one account in one slot, over every (slot, account) pair, zeros included. */
  readonly accountRunsPerSlot: { readonly min: number; readonly max: number };
  /** Runs beyond the first of an account in a slot, summed. */
  readonly duplicateRuns: number;
  /** (slot, account) pairs with no run. */
  readonly missedAccounts: number;
  /** Jobs of the measured slots done by each replica, in the order given. */
  readonly sharePerReplica: number[];
  /** Each replica's jobs as a fraction of all. */
  readonly shareFractions: number[];
  /** Jobs done by a process not named among the replicas (should be none). */
  readonly unknownReplicaRuns: number;
  /** Per slot: runs, distinct accounts, duplicates, missed. */
  readonly perSlot: Array<{ slot: string; runs: number; accounts: number; duplicates: number; missed: number }>;
}

export function judgeSlots(lines: readonly FullReconcileDone[], slots: readonly string[], accountIds: readonly string[], replicas: readonly string[]): SlotVerdict {
  const runs = new Map<string, Map<string, number>>(slots.map((s) => [s, new Map()]));
  const share = new Map<string, number>(replicas.map((r) => [r, 0]));
  let unknownReplicaRuns = 0;
  for (const line of lines) {
    const bySlot = runs.get(line.slot);
    if (!bySlot) continue; // a slot before or after the measured ones
    bySlot.set(line.accountId, (bySlot.get(line.accountId) ?? 0) + 1);
    if (share.has(line.replica)) share.set(line.replica, share.get(line.replica)! + 1);
    else unknownReplicaRuns++;
  }
  let min = Infinity;
  let max = 0;
  let duplicateRuns = 0;
  let missedAccounts = 0;
  const perSlot = slots.map((slot) => {
    const bySlot = runs.get(slot)!;
    let duplicates = 0;
    let missed = 0;
    let total = 0;
    for (const accountId of accountIds) {
      const n = bySlot.get(accountId) ?? 0;
      min = Math.min(min, n);
      max = Math.max(max, n);
      total += n;
      if (n === 0) missed++;
      if (n > 1) duplicates += n - 1;
    }
    duplicateRuns += duplicates;
    missedAccounts += missed;
    return { slot, runs: total, accounts: accountIds.length - missed, duplicates, missed };
  });
  const counts = replicas.map((r) => share.get(r)!);
  const all = counts.reduce((a, b) => a + b, 0);
  return {
    accountRunsPerSlot: { min: Number.isFinite(min) ? min : 0, max },
    duplicateRuns, missedAccounts,
    sharePerReplica: counts,
    shareFractions: counts.map((c) => (all === 0 ? 0 : Number((c / all).toFixed(4)))),
    unknownReplicaRuns, perSlot,
  };
}

/** Every replica's share within ±`tolerance` (0.25: 25 %) of an equal share. */
export function sharesBalanced(fractions: readonly number[], tolerance = 0.25): boolean {
  const equal = 1 / fractions.length;
  return fractions.every((f) => Math.abs(f - equal) <= equal * tolerance);
}
