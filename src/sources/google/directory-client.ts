// Builds the real `@googleapis/admin` Directory client for one connection: a service-account JWT
// (domain-wide delegation when a subject is set) loaded from the referenced key, and, for tests and
// demos, both Google hosts pointed at a local fake (SYNC-APIS.md §1.9). Library retries are switched
// off per request (directory-requests.ts retries, so that every HTTP call is counted).
import { readFile } from "node:fs/promises";
import { admin, auth, type admin_directory_v1 } from "@googleapis/admin";
import { SourceConfigError } from "../pull-errors.ts";
import type { GoogleConnectionConfig } from "./google-connection.ts";

export const DIRECTORY_SCOPES: readonly string[] = ["group.readonly", "group.member.readonly", "user.readonly"]
  .map((s) => `https://www.googleapis.com/auth/admin.directory.${s}`);

export type DirectoryAuthClient = NonNullable<admin_directory_v1.Options["auth"]>;

/** An auth client and, when known, the service account's OAuth client id (what an admin grants delegation to). */
export interface GoogleAuth {
  readonly client: DirectoryAuthClient;
  readonly clientId: string | null;
}

const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

/** Reads the service-account JSON the config references; errors name the reference, never the key. */
export async function loadGoogleAuth(config: GoogleConnectionConfig, env: NodeJS.ProcessEnv = process.env): Promise<GoogleAuth> {
  const { keyFile, keyEnv } = config.credentials;
  let text: string | undefined;
  if (keyFile) {
    try {
      text = await readFile(keyFile, "utf8");
    } catch (error) {
      throw new SourceConfigError(`cannot read the service-account key file ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, null,
        "fix credentials.keyFile or make the file readable by idsync");
    }
  } else if (keyEnv) {
    text = env[keyEnv];
    if (!text) throw new SourceConfigError(`environment variable ${keyEnv} (credentials.keyEnv) is not set`, null, `set ${keyEnv} to the service-account JSON key`);
  } else {
    throw new SourceConfigError("no service-account key referenced", null, "set credentials.keyFile or credentials.keyEnv");
  }
  let key: { client_email?: unknown; private_key?: unknown; client_id?: unknown; private_key_id?: unknown };
  try {
    key = JSON.parse(text);
  } catch {
    throw new SourceConfigError(`the service-account key from ${keyFile ?? keyEnv} is not JSON`, null, "use the JSON key downloaded from Google Cloud → IAM → Service accounts → Keys");
  }
  if (typeof key.client_email !== "string" || typeof key.private_key !== "string") {
    throw new SourceConfigError(`the service-account key from ${keyFile ?? keyEnv} lacks client_email or private_key`, null,
      "use the JSON key downloaded from Google Cloud → IAM → Service accounts → Keys");
  }
  const jwt = new auth.JWT({
    email: key.client_email,
    key: key.private_key,
    ...(typeof key.private_key_id === "string" ? { keyId: key.private_key_id } : {}),
    scopes: [...DIRECTORY_SCOPES],
    ...(config.subject ? { subject: config.subject } : {}),
  });
  if (config.fakeBaseUrl) {
    const tokenUrl = new URL("/token", config.fakeBaseUrl);
    // the JWT client hard-codes Google's token URL; a URL object (not a string) keeps gaxios' error redactor working
    jwt.transporter.interceptors.request.add({
      resolved: async (request) => {
        if (String(request.url).startsWith(GOOGLE_TOKEN_URL)) request.url = tokenUrl;
        return request;
      },
    });
  }
  return { client: jwt, clientId: typeof key.client_id === "string" ? key.client_id : null };
}

/** The proxy variables gaxios honours (gaxios.js #prepareRequest). */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] as const;

/**
 * How the Directory client makes its HTTP calls: Node's own fetch, unless a proxy is configured.
 * gaxios' default on Node is node-fetch, whose streams cost a tenth of a full pull's time against the
 * bench's local fake (bench/pull-bench.ts, 50,000 users: 4.17 s in memory with node-fetch, 3.78 s with
 * Node's fetch; a bare fetch of the same pages 2.3 s). gaxios routes a proxy through an `agent`, which
 * only node-fetch understands, so with HTTPS_PROXY or HTTP_PROXY set the default is kept and the proxy
 * still works.
 */
function directoryFetch(): typeof fetch | undefined {
  // process.env, as gaxios reads it (not a pull's `env`, which only holds credentials)
  return PROXY_VARIABLES.some((name) => process.env[name]) ? undefined : globalThis.fetch;
}

export function makeDirectoryClient(client: DirectoryAuthClient, fakeBaseUrl?: string): admin_directory_v1.Admin {
  const fetchImplementation = directoryFetch();
  return admin({
    version: "directory_v1", auth: client,
    ...(fetchImplementation ? { fetchImplementation } : {}),
    ...(fakeBaseUrl ? { rootUrl: `${fakeBaseUrl.replace(/\/$/, "")}/` } : {}),
  });
}
