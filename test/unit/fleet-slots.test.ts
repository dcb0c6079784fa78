// The fleet benchmark's slot verdict (bench/fleet-slots.ts): what its duplicate, miss and share figures
// mean, on lines shaped as the replicas log them, so a green bench run cannot come from miscounting.
import { expect, test } from "vitest";
import { judgeSlots, sharesBalanced, type FullReconcileDone } from "../../bench/fleet-slots.ts";

const S1 = "2026-12-02T12:00:00.000Z";
const S2 = "2026-12-02T12:02:00.000Z";
const done = (accountId: string, slot: string, replica: string): FullReconcileDone => ({ accountId, slot, replica });

test("every account once per slot, shared by the replicas: no duplicates, no misses", () => {
  const lines = [done("a", S1, "r1"), done("b", S1, "r2"), done("c", S1, "r3"), done("a", S2, "r2"), done("b", S2, "r3"), done("c", S2, "r1")];
  const verdict = judgeSlots(lines, [S1, S2], ["a", "b", "c"], ["r1", "r2", "r3"]);
  expect(verdict).toMatchObject({ accountRunsPerSlot: { min: 1, max: 1 }, duplicateRuns: 0, missedAccounts: 0, sharePerReplica: [2, 2, 2] });
  expect(sharesBalanced(verdict.shareFractions)).toBe(true);
});

test("every replica reconciling every account (today's scheduler) is two duplicates per account and slot", () => {
  const lines = ["r1", "r2", "r3"].flatMap((r) => ["a", "b"].map((a) => done(a, S1, r)));
  expect(judgeSlots(lines, [S1], ["a", "b"], ["r1", "r2", "r3"])).toMatchObject({ accountRunsPerSlot: { min: 3, max: 3 }, duplicateRuns: 4, missedAccounts: 0 });
});

test("a job retried by another replica after its own was killed counts once, for the slot it names, even when it finishes later", () => {
  // r2 was killed before finishing b; r3 ran it and logged the same slot after the next slot had begun
  const lines = [done("a", S1, "r1"), done("c", S1, "r3"), done("a", S2, "r1"), done("b", S2, "r2"), done("c", S2, "r3"), done("b", S1, "r3")];
  expect(judgeSlots(lines, [S1, S2], ["a", "b", "c"], ["r1", "r2", "r3"])).toMatchObject({ duplicateRuns: 0, missedAccounts: 0, sharePerReplica: [2, 1, 3] });
});

test("an account nobody ran is missed in that slot; runs of slots outside the measured ones are ignored", () => {
  const lines = [done("a", S1, "r1"), done("a", S2, "r1"), done("b", S2, "r2"), done("b", "2026-12-02T11:58:00.000Z", "r3")];
  const verdict = judgeSlots(lines, [S1, S2], ["a", "b"], ["r1", "r2", "r3"]);
  expect(verdict).toMatchObject({ accountRunsPerSlot: { min: 0, max: 1 }, missedAccounts: 1, duplicateRuns: 0, sharePerReplica: [2, 1, 0] });
  expect(verdict.perSlot).toEqual([
    { slot: S1, runs: 1, accounts: 1, duplicates: 0, missed: 1 },
    { slot: S2, runs: 2, accounts: 2, duplicates: 0, missed: 0 },
  ]);
});

test("a share is balanced within 25 % of a third: 0.25–0.4167 of the jobs", () => {
  expect(sharesBalanced([0.26, 0.33, 0.41])).toBe(true);
  expect(sharesBalanced([0.3855, 0.229, 0.3855])).toBe(false);
  expect(sharesBalanced([0.42, 0.29, 0.29])).toBe(false);
});
