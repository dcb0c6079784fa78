// Whether a replica lets the others take the next full reconcile. graphile-worker hands a due job to
// whichever worker asks first, so a slot's jobs divide by the phase of each replica's poll and by how
// busy its event loop is, not evenly: in bench:fleet one replica ran 0.24 of a slot's jobs. A replica
// ahead of the fleet's mean lets a few of its fetches pass without full reconciles; the others, asking
// in the meantime, take them. Never for long: after MAX_YIELDS_IN_A_ROW it takes the job whatever the
// counts say, so a fleet whose other replicas are busy or gone is delayed by a few polls at most.

/** Counts within this part of the mean (and MARGIN jobs) of it are fair. */
export const SLACK = 0.05;
export const MARGIN = 3;
/** Fetches in a row a replica lets pass before it takes a job regardless (each is one poll, ≤ 1 s). */
export const MAX_YIELDS_IN_A_ROW = 3;

/**
 * `mine`: this replica's full reconciles in the slot; `fleet`: every live replica's, this one's included.
 * Alone, or with nobody to yield to, a replica never yields.
 */
export function yieldsTurn(mine: number, fleet: readonly number[], yieldsInARow: number): boolean {
  if (fleet.length < 2 || yieldsInARow >= MAX_YIELDS_IN_A_ROW) return false;
  const mean = fleet.reduce((sum, n) => sum + n, 0) / fleet.length;
  return mine > mean * (1 + SLACK) + MARGIN;
}
