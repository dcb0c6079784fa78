// Client-side throttle for one connection: a token bucket refilled at the configured queries per
// minute (80 % of Google's per-user quota by default), so a pull slows itself down instead of
// collecting 403 usageLimits answers. All delegated traffic of one subject shares Google's bucket:
// a runner should keep one RequestBudget per connection and hand it to every pull of it.

/** Time as the budget and the retry loop see it; tests pass a virtual one. */
export interface PullClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: PullClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RequestBudget {
  private tokens: number;
  private at: number;
  /** Requests that had to wait for the bucket to refill. */
  waited = 0;

  /** `burst` defaults to one second's worth of requests. */
  constructor(readonly perMinute: number, private readonly clock: PullClock = systemClock, readonly burst = Math.max(1, perMinute / 60)) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** Resolves when one request may go out. Reservations queue: concurrent callers wait in turn. */
  async take(): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perMinute) / 60_000);
    this.at = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    this.waited += 1;
    await this.clock.sleep((-this.tokens * 60_000) / this.perMinute);
  }
}
