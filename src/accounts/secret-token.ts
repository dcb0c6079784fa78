// Bearer secrets: 256 random bits, shown once, stored only as a SHA-256 hash. A fast hash is the right
// one here: the input is high-entropy (no dictionary to guess from), and every request checks it.
import { createHash, randomBytes } from "node:crypto";

export type TokenKind = "scim" | "admin" | "key" | "session" | "invite";
const TOKEN_KINDS: readonly TokenKind[] = ["scim", "admin", "key", "session", "invite"];

export interface IssuedToken {
  /** The secret itself: returned to the caller once, never stored or logged. */
  readonly token: string;
  readonly hash: string;
  /** Enough of the token to recognise it in a list (`idsync_scim_AbC1…`). */
  readonly prefix: string;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function issueToken(kind: TokenKind): IssuedToken {
  const token = `idsync_${kind}_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashToken(token), prefix: token.slice(0, `idsync_${kind}_`.length + 4) };
}

/** The token from an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The kind a token's prefix names (`idsync_scim_…` → "scim"), or undefined for a token not issued by idsync. */
export function tokenKindOf(token: string): TokenKind | undefined {
  return TOKEN_KINDS.find((kind) => token.startsWith(`idsync_${kind}_`));
}
