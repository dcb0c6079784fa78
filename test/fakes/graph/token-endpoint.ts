// The fake Entra token endpoint (v2.0 client credentials) and the OpenID metadata MSAL reads first. It checks the
// tenant, the client id, and either the client secret or a certificate-signed client assertion (RS256/PS256 against
// the registered certificate), and answers with AADSTS error bodies like Entra's.
import { createPublicKey, createVerify, randomBytes, constants } from "node:crypto";

export interface FakeApp {
  tenantId: string;
  tenantDomain: string;
  clientId: string;
  clientSecret: string;
  /** PEM certificate registered on the app, for client assertions. */
  certificatePem: string | null;
}

export interface TokenAnswer { status: number; body: unknown }

function aadError(status: number, error: string, code: number, text: string): TokenAnswer {
  return { status, body: { error, error_description: `AADSTS${code}: ${text}`, error_codes: [code], timestamp: new Date().toISOString(),
    trace_id: randomBytes(8).toString("hex"), correlation_id: randomBytes(8).toString("hex") } };
}

function knownTenant(app: FakeApp, tenant: string): boolean {
  return tenant === app.tenantId || tenant === app.tenantDomain;
}

export function openidConfiguration(app: FakeApp, origin: string, tenant: string): TokenAnswer {
  if (!knownTenant(app, tenant)) return aadError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
  const base = `${origin}/${tenant}`;
  return { status: 200, body: {
    token_endpoint: `${base}/oauth2/v2.0/token`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`, jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
    issuer: `${origin}/${app.tenantId}/v2.0`, token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"], scopes_supported: ["openid", "profile", "email", "offline_access"],
    subject_types_supported: ["pairwise"], id_token_signing_alg_values_supported: ["RS256"], tenant_region_scope: "EU",
  } };
}

function assertionValid(app: FakeApp, assertion: string, audience: string): boolean {
  if (!app.certificatePem) return false;
  const [h, p, s] = assertion.split(".");
  if (!h || !p || !s) return false;
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as { aud?: string; iss?: string; sub?: string; exp?: number };
    const key = createPublicKey(app.certificatePem);
    const verifier = createVerify("RSA-SHA256").update(`${h}.${p}`);
    const signature = Buffer.from(s, "base64url");
    const ok = header.alg === "PS256"
      ? verifier.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
      : header.alg === "RS256" && verifier.verify(key, signature);
    return ok && claims.aud === audience && claims.iss === app.clientId && claims.sub === app.clientId &&
      typeof claims.exp === "number" && claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

/** Answers `POST /{tenant}/oauth2/v2.0/token`; `issue` records and returns a new access token. */
export function tokenRequest(app: FakeApp, origin: string, tenant: string, form: URLSearchParams, issue: () => string): TokenAnswer {
  if (!knownTenant(app, tenant)) return aadError(400, "invalid_request", 90002, `Tenant '${tenant}' not found.`);
  if (form.get("grant_type") !== "client_credentials") return aadError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
  if (form.get("client_id") !== app.clientId) {
    return aadError(400, "unauthorized_client", 700016, `Application with identifier '${form.get("client_id")}' was not found in the directory.`);
  }
  if (form.get("scope") !== "https://graph.microsoft.com/.default") return aadError(400, "invalid_scope", 1002012, "The provided value for scope is not valid.");
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null) {
    if (secret !== app.clientSecret) return aadError(401, "invalid_client", 7000215, "Invalid client secret provided.");
  } else if (assertion !== null) {
    if (!assertionValid(app, assertion, `${origin}/${tenant}/oauth2/v2.0/token`)) {
      return aadError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
    }
  } else {
    return aadError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  return { status: 200, body: { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: issue() } };
}
