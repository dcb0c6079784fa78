// Pages from producers that run concurrently (members.list of several groups at once) handed to one
// consumer as an async iterator, with backpressure: a producer's push waits while `capacity` pages are
// queued, so a slow consumer (the staging writes) slows the reads down instead of letting pages pile up
// in memory. The producers' failure ends the iteration with that error; a consumer that stops early
// (break, throw) makes every later push reject, so the producers stop too.

export class PageChannel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private readonly spaceWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private itemWaiter: (() => void) | null = null;
  private ended = false;
  private failure: { error: unknown } | null = null;
  private cancelled = false;

  constructor(private readonly capacity = 4) {}

  /** Queues a page; resolves when there is room for it, rejects once the consumer has gone. */
  async push(item: T): Promise<void> {
    while (!this.cancelled && this.queue.length >= this.capacity) {
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
    }
    if (this.cancelled) throw new Error("the consumer of the pull stopped reading");
    this.queue.push(item);
    this.wake();
  }

  /** No more pages (with `error`: the pull failed, and the consumer sees that error after what was queued). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
  }

  private wake(): void {
    const waiter = this.itemWaiter;
    this.itemWaiter = null;
    waiter?.();
  }

  private cancel(): void {
    this.cancelled = true;
    for (const waiter of this.spaceWaiters.splice(0)) waiter.reject(new Error("the consumer of the pull stopped reading"));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        // a failure wins over pages still queued: they belong to a pull that will not be used
        if (this.failure) throw this.failure.error;
        const item = this.queue.shift();
        if (item !== undefined) {
          this.spaceWaiters.shift()?.resolve();
          yield item;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => { this.itemWaiter = resolve; });
      }
    } finally {
      this.cancel();
    }
  }
}
