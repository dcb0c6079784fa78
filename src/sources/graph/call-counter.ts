// Counts the HTTP requests a pull really sends. It sits last before HTTPMessageHandler, after the retry middleware,
// so every retry is one more call and nothing else is (token requests go through the credential, not this chain).
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";

/** A middleware whose `calls` is the number of requests handed to fetch. */
export class CallCounter implements Middleware {
  calls = 0;
  private next: Middleware | undefined;

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    this.calls += 1;
    await this.next!.execute(context);
  }
}
