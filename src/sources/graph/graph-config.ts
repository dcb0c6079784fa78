// How one Microsoft Graph (Entra ID) connection is configured, and the check run on it before any request. The secret
// itself never sits in config: only the name of the environment variable holding it, or a certificate file path.
import { SourceConfigError } from "../pull-errors.ts";

/** A validated, frozen Graph connection. */
export interface GraphConnectionConfig {
  readonly tenantId: string;
  /** The app registration's application (client) id. */
  readonly clientId: string;
  /** Exactly one of: the NAME of an env var holding the client secret, or a PEM file (key + certificate). */
  readonly credentials: { readonly secretEnv?: string; readonly certificateFile?: string };
  /** Group object ids in scope; absent means every group. */
  readonly groupFilter?: readonly string[];
  /** Tests and the demo only: an https origin serving both Graph and the token endpoint (a local fake). */
  readonly fakeOrigin?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every problem with `raw`, one sentence each; empty when it is a usable Graph connection. */
export function graphConfigProblems(raw: unknown): string[] {
  if (!isRecord(raw)) return ["the Graph connection must be an object"];
  const problems: string[] = [];
  const { tenantId, clientId, credentials, groupFilter, fakeOrigin } = raw;
  if (typeof tenantId !== "string" || !(GUID.test(tenantId) || TENANT_DOMAIN.test(tenantId))) {
    problems.push("tenantId must be the directory (tenant) id, a GUID, or its domain such as contoso.onmicrosoft.com");
  }
  if (typeof clientId !== "string" || !GUID.test(clientId)) {
    problems.push("clientId must be the app registration's application (client) id, a GUID");
  }
  if (!isRecord(credentials)) {
    problems.push("credentials must be an object with secretEnv (an env var name) or certificateFile (a PEM path)");
  } else {
    const { secretEnv, certificateFile } = credentials;
    if ((secretEnv === undefined) === (certificateFile === undefined)) {
      problems.push("credentials needs exactly one of secretEnv (an env var name) or certificateFile (a PEM path)");
    }
    if (secretEnv !== undefined && (typeof secretEnv !== "string" || !ENV_NAME.test(secretEnv))) {
      problems.push("credentials.secretEnv must be the NAME of an environment variable (like GRAPH_CLIENT_SECRET), never the secret");
    }
    if (certificateFile !== undefined && (typeof certificateFile !== "string" || certificateFile.trim() === "")) {
      problems.push("credentials.certificateFile must be a path to a PEM file holding the private key and certificate");
    }
    const extra = Object.keys(credentials).filter((k) => k !== "secretEnv" && k !== "certificateFile");
    if (extra.length > 0) problems.push(`credentials has unknown keys (${extra.join(", ")}); put secrets in an env var and name it in secretEnv`);
  }
  if (groupFilter !== undefined && (!Array.isArray(groupFilter) || groupFilter.length === 0 ||
      !groupFilter.every((g) => typeof g === "string" && GUID.test(g)))) {
    problems.push("groupFilter, when given, must be a non-empty list of group object ids (GUIDs)");
  }
  if (fakeOrigin !== undefined) {
    let url: URL | null = null;
    try { url = typeof fakeOrigin === "string" ? new URL(fakeOrigin) : null; } catch { url = null; }
    if (!url || url.protocol !== "https:" || url.origin !== fakeOrigin) {
      problems.push("fakeOrigin must be a bare https origin such as https://127.0.0.1:4443 (the Graph client and MSAL refuse http)");
    }
  }
  return problems;
}

/** `raw` as a frozen connection, or a SourceConfigError listing everything wrong with it. */
export function parseGraphConfig(raw: unknown): GraphConnectionConfig {
  const problems = graphConfigProblems(raw);
  if (problems.length > 0) {
    throw new SourceConfigError("invalid Microsoft Graph connection", null, problems.join("; "));
  }
  const r = raw as GraphConnectionConfig;
  return Object.freeze({
    tenantId: r.tenantId,
    clientId: r.clientId,
    credentials: Object.freeze({ ...r.credentials }),
    ...(r.groupFilter ? { groupFilter: Object.freeze([...r.groupFilter]) } : {}),
    ...(r.fakeOrigin ? { fakeOrigin: r.fakeOrigin } : {}),
  });
}
