// When a failed delivery is tried again: exponential from one second, doubled per attempt, capped at an
// hour, with jitter so endpoints that failed together do not retry together. Pure: the randomness is a
// parameter. With 16 attempts a delivery is retried for about five hours before it is given up.

export const MAX_ATTEMPTS = 16;
export const FIRST_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 3_600_000;

/**
 * The pause after the `attempt`-th failed attempt (1-based): between half and all of
 * min(1 s × 2^(attempt-1), 1 h), never shorter than half, so retries do not bunch up at zero.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * The pause a 429 or 503 answer asked for (`Retry-After`: seconds or an HTTP date), capped at an hour;
 * undefined when the header is absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - nowMs;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_DELAY_MS, Math.max(0, ms));
}

/** Whether a delivery that has failed `attempts` times is given up. */
export function givesUp(attempts: number): boolean {
  return attempts >= MAX_ATTEMPTS;
}
