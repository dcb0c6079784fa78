// The removal brake counts an account's active members only as far as its verdict needs
// (membersToCount): counting 100,000 members on every departure cost more than the departure itself.
// The claim: for any policy, any number of removals up to the bound, and any real member count, the
// verdict from the partial count is the verdict from the exact one.
import fc from "fast-check";
import { expect, test } from "vitest";
import { brakeLimit, brakeVerdict, describeLimit, membersToCount } from "../../src/reconcile/removal-brake.ts";
import { DEFAULT_POLICY, type AccountPolicy } from "../../src/mapping/mapping-rules.ts";

const policyOf = (minimum: number, percent: number): AccountPolicy => ({ ...DEFAULT_POLICY, removalBrake: { minimum, percent, windowMinutes: 15 } });

/** The limit the reconciler uses: from the members counted up to membersToCount's bound. */
function countedLimit(policy: AccountPolicy, mostRemovals: number, members: number) {
  const upTo = membersToCount(policy, mostRemovals);
  if (upTo === 0) return brakeLimit(policy, 0, true);
  const counted = upTo === null ? members : Math.min(members, upTo);
  return brakeLimit(policy, counted, upTo !== null && counted >= upTo);
}

test("a partial count of the members gives the exact count's verdict on every removal total it was asked for", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5000 }),
    fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }),
    (minimum, percent, members, inRunMax, inWindow) => {
      const policy = policyOf(minimum, percent);
      const partial = countedLimit(policy, inRunMax + inWindow, members);
      const exact = brakeLimit(policy, members);
      for (let inRun = 0; inRun <= inRunMax; inRun++) {
        if (brakeVerdict(inRun, inWindow, partial).held !== brakeVerdict(inRun, inWindow, exact).held) return false;
      }
      // a held verdict always shows the exact number of members
      return !brakeVerdict(inRunMax, inWindow, exact).held || JSON.stringify(partial) === JSON.stringify(exact);
    }), { numRuns: 3000 });
});

test("a count that stopped early says so: the limit and the members are lower bounds", () => {
  expect(describeLimit(countedLimit(policyOf(10, 10), 3, 100_000))).toBe("limit 10 or more (the minimum 10 allows it; members not counted)");
  expect(describeLimit(countedLimit(policyOf(10, 10), 40, 100_000))).toBe("limit 40 or more (max(10, 10 % of at least 400 members))");
  expect(describeLimit(countedLimit(policyOf(10, 10), 40, 300))).toBe("limit 30 (max(10, 10 % of 300 members))");
});
