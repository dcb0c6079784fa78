// The fleet's turn-taking over full reconciles (src/scheduler/fair-share.ts), as properties.
import { expect, test } from "vitest";
import fc from "fast-check";
import { MARGIN, MAX_YIELDS_IN_A_ROW, SLACK, yieldsTurn } from "../../src/scheduler/fair-share.ts";

const counts = fc.array(fc.nat({ max: 5_000 }), { minLength: 0, maxLength: 8 });

test("a replica alone, or at or below the fleet's mean, never yields", () => {
  fc.assert(fc.property(fc.nat({ max: 5_000 }), counts, (mine, others) => {
    const fleet = [mine, ...others];
    const mean = fleet.reduce((a, b) => a + b, 0) / fleet.length;
    if (others.length === 0 || mine <= mean) expect(yieldsTurn(mine, fleet, 0)).toBe(false);
  }));
});

test("a replica ahead of the mean by more than the slack yields, but never more than MAX_YIELDS_IN_A_ROW fetches in a row", () => {
  fc.assert(fc.property(fc.nat({ max: 5_000 }), fc.array(fc.nat({ max: 5_000 }), { minLength: 1, maxLength: 8 }), (mine, others) => {
    const fleet = [mine, ...others];
    const mean = fleet.reduce((a, b) => a + b, 0) / fleet.length;
    const ahead = mine > mean * (1 + SLACK) + MARGIN;
    // the fetches of one replica whose counts stay as they are (nobody else took anything)
    let inARow = 0;
    const fetches: boolean[] = [];
    for (let i = 0; i < 3 * (MAX_YIELDS_IN_A_ROW + 1); i++) {
      const yields = yieldsTurn(mine, fleet, inARow);
      fetches.push(yields);
      inARow = yields ? inARow + 1 : 0;
    }
    if (!ahead) expect(fetches.every((y) => !y)).toBe(true);
    else expect(fetches).toEqual(Array.from({ length: fetches.length }, (_, i) => (i + 1) % (MAX_YIELDS_IN_A_ROW + 1) !== 0));
  }));
});
