// The CLI's way to the running server: the admin API, authenticated with IDSYNC_ADMIN_TOKEN.
// With the embedded database only the server may open the data directory, so the CLI never does.

import { MissingAdminTokenError, ServerRefusedError, ServerUnreachableError } from "./cli-errors.ts";

// commands import CliError from here
export { CliError } from "./cli-errors.ts";

/** fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND, a TLS error…). */
function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message || cause?.code || (error as Error).message;
}

export class AdminClient {
  constructor(private readonly serverUrl: string, private readonly token: string | undefined) {}

  /** A request whose answer is NDJSON: each line goes to `onLine` as it arrives. */
  async stream(method: "POST", path: string, body: unknown, onLine: (line: Record<string, unknown>) => void): Promise<void> {
    const response = await this.send(method, path, body);
    if (!response.ok) await this.fail(response);
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) onLine(JSON.parse(line));
      }
    }
  }

  async request<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (!response.ok) await this.fail(response);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  private async send(method: string, path: string, body: unknown): Promise<Response> {
    if (!this.token) throw new MissingAdminTokenError();
    try {
      return await fetch(`${this.serverUrl}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.serverUrl, unreachableReason(error));
    }
  }

  private async fail(response: Response): Promise<never> {
    const text = await response.text();
    let json: { title?: string; detail?: string } = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // not a problem document: the text says it
    }
    throw new ServerRefusedError(response.status, json.title ?? response.statusText, json.detail ?? text);
  }
}
