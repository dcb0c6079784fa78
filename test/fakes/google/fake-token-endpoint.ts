// The OAuth 2.0 JWT-bearer grant as Google's token endpoint runs it for a service account: the
// assertion must be RS256-signed by the service account's key, name it as `iss`, the token URL as
// `aud`, be short-lived, and ask only for scopes granted to its client id by domain-wide delegation.
import crypto from "node:crypto";
import type { FakeDirectory } from "./fake-directory.ts";
import { invalidGrant, unauthorizedClient, type FakeErrorResponse } from "./google-error-bodies.ts";

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

export interface FakeServiceAccount {
  readonly clientEmail: string;
  readonly clientId: string;
  readonly publicKey: crypto.KeyObject | string;
}

/** What an access token stands for. */
export interface IssuedToken {
  /** The impersonated admin (`sub`), or the service account itself without delegation. */
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

export interface TokenGrantContext {
  readonly serviceAccount: FakeServiceAccount;
  /** Scopes granted to the service account's client id under domain-wide delegation. */
  readonly delegatedScopes: readonly string[];
  readonly directory: FakeDirectory;
  readonly now: number;
}

/** Checks one form-encoded token request; returns the token's meaning or Google's error. */
export function grantToken(form: URLSearchParams, ctx: TokenGrantContext): IssuedToken | FakeErrorResponse {
  if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    return { status: 400, body: { error: "unsupported_grant_type", error_description: "Invalid grant_type: " + (form.get("grant_type") ?? "") } };
  }
  const parts = (form.get("assertion") ?? "").split(".");
  if (parts.length !== 3) return invalidGrant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
  const [head, payload, signature] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return invalidGrant("Invalid JWT: could not parse.");
  }
  const signed = crypto.verify("RSA-SHA256", Buffer.from(`${head}.${payload}`), ctx.serviceAccount.publicKey, Buffer.from(signature, "base64url"));
  if (header.alg !== "RS256" || !signed || claims.iss !== ctx.serviceAccount.clientEmail) return invalidGrant("Invalid JWT Signature.");
  if (claims.aud !== GOOGLE_TOKEN_URL) return invalidGrant("Invalid JWT: Failed audience check.");
  const nowSeconds = Math.floor(ctx.now / 1000);
  const iat = Number(claims.iat), exp = Number(claims.exp);
  if (!(exp > nowSeconds && iat <= nowSeconds + 300 && exp - iat <= 3600)) {
    return invalidGrant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
  }
  const scopes = String(claims.scope ?? "").split(" ").filter(Boolean);
  let subject = ctx.serviceAccount.clientEmail;
  if (typeof claims.sub === "string" && claims.sub !== ctx.serviceAccount.clientEmail) {
    const user = ctx.directory.users.find((u) => u.primaryEmail.toLowerCase() === String(claims.sub).toLowerCase() && !u.deletionTime);
    if (!user) return invalidGrant("Invalid email or User ID");
    if (scopes.length === 0 || scopes.some((s) => !ctx.delegatedScopes.includes(s))) return unauthorizedClient();
    subject = user.primaryEmail;
  } else if (scopes.length === 0) {
    return { status: 400, body: { error: "invalid_scope", error_description: "Invalid OAuth scope or ID token audience provided." } };
  }
  return { subject, scopes, expiresAt: ctx.now + 3599_000 };
}
