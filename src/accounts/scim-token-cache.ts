// Verified SCIM tokens, remembered for a few seconds. Okta and Entra send every request with the same
// bearer token, and looking it up was one database round trip per request, as costly as a GET's own
// lookup. A token that stops working is forgotten at once, not at the end of its seconds:
//   - by this process, right after it revokes or rotates a token (the admin API calls `forgetConnection`);
//   - by every other process through the `idsync_scim_tokens_changed` notification, which triggers on
//     scim_tokens and directory_connections send when a token or its connection changes (migration
//     20261202000043), whoever the writer is;
//   - when its own `expires_at` passes (a rotated token's grace ends on time, not up to TTL late).
// If a notification is lost (the listening session dropped), the TTL bounds how long a revoked token
// may still be accepted, and the listener's reconnect clears everything (postgres-listener.ts).
// Only tokens that worked are cached: an unknown or revoked token is looked up every time, so the
// failed-authentication throttle counts every guess as before. Keyed by the token's SHA-256, never the
// token itself.
import type { Executor } from "../snapshot/connection-scope.ts";
import { verifyScimToken, type ScimPrincipal } from "./connections.ts";
import { hashToken } from "./secret-token.ts";

export const SCIM_TOKENS_CHANGED_CHANNEL = "idsync_scim_tokens_changed";

export interface ScimTokenCacheOptions {
  /** How long a verified token is trusted without asking the database again. */
  readonly ttlMs: number;
  /** Tokens remembered at most; the oldest are forgotten beyond this. */
  readonly maxEntries: number;
  readonly now: () => number;
}

const DEFAULTS: ScimTokenCacheOptions = { ttlMs: 5_000, maxEntries: 10_000, now: Date.now };

interface Entry {
  readonly principal: ScimPrincipal;
  readonly until: number;
}

export class ScimTokenCache {
  private readonly options: ScimTokenCacheOptions;
  private readonly entries = new Map<string, Entry>();
  /**
   * Bumped by every forget. A lookup that started before a forget must not cache what it read: its
   * snapshot may predate the revocation that caused the forget.
   */
  private generation = 0;

  constructor(options: Partial<ScimTokenCacheOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The principal `token` grants, from memory while still trusted, else from the database. */
  async verify(db: Executor, token: string): Promise<ScimPrincipal | undefined> {
    const key = hashToken(token);
    const now = this.options.now();
    const cached = this.entries.get(key);
    if (cached && cached.until > now) return cached.principal;
    if (cached) this.entries.delete(key);
    const generation = this.generation;
    const verified = await verifyScimToken(db, token);
    if (!verified) return undefined;
    // (a TTL of 0, IDSYNC_SCIM_TOKEN_CACHE_SECONDS=0: nothing is kept, every request is looked up)
    if (generation === this.generation && this.options.ttlMs > 0) {
      const until = Math.min(now + this.options.ttlMs, verified.expiresAt?.getTime() ?? Infinity);
      if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { principal: verified.principal, until });
    }
    return verified.principal;
  }

  /** Forgets every token of a connection (its tokens or the connection itself changed). */
  forgetConnection(connectionId: string): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (entry.principal.connectionId === connectionId) this.entries.delete(key);
  }

  /** Forgets everything (a notification may have been missed). */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Handles an `idsync_scim_tokens_changed` payload: a connection's id, or "" after the listener reconnected. */
  onChanged(payload: string): void {
    if (payload) this.forgetConnection(payload);
    else this.clear();
  }
}
