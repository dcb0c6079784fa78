// The CLI's way to the running server: the admin API, authenticated with IDSYNC_ADMIN_TOKEN.
// With the embedded database only the server may open the data directory, so the CLI never does.

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}

export class AdminClient {
  constructor(private readonly serverUrl: string, private readonly token: string | undefined) {}

  async request<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
    if (!this.token) throw new CliError("IDSYNC_ADMIN_TOKEN is not set: use the admin token `idsync serve` printed, or the one you started it with");
    let response: Response;
    try {
      response = await fetch(`${this.serverUrl}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach idsync at ${this.serverUrl} (${(error as Error).cause ?? (error as Error).message}); is \`idsync serve\` running? (IDSYNC_URL sets where)`);
    }
    const text = await response.text();
    const json = text ? JSON.parse(text) : {};
    if (!response.ok) throw new CliError(`${response.status} ${json.title ?? ""}: ${json.detail ?? text}`.trim());
    return json as T;
  }
}
