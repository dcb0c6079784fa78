// Verified SCIM tokens are remembered a few seconds (src/accounts/scim-token-cache.ts), and a token
// that stops working must still be refused from the next request on: revoked or rotated through this
// process's admin API, revoked or disabled by any other writer (another replica, SQL) through NOTIFY,
// expired on time. The statements are counted through knex's "query" event, which runSql emits.
import { afterAll, beforeAll, expect, test } from "vitest";
import { ScimTokenCache, SCIM_TOKENS_CHANGED_CHANNEL } from "../../src/accounts/scim-token-cache.ts";
import { scimClient, startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import { statementsDuring } from "../support/statements-during.ts";
import { createFaultStore } from "../soak/serve-child.ts";
import { loadSettings } from "../../src/config/settings.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startServer } from "../../src/http/server.ts";
import { createAccount } from "../../src/accounts/accounts.ts";
import { createScimConnection } from "../../src/accounts/connections.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(async () => {
  await harness?.close();
});

/** Token lookups issued while `work` runs. */
async function tokenLookups(work: () => Promise<unknown>): Promise<number> {
  return (await statementsDuring(harness.db.knex, work)).filter((st) => /from scim_tokens t join directory_connections/.test(st.sql)).length;
}

const admin = (method: string, path: string, body?: unknown) => fetch(`${harness.url}/admin/v1${path}`, {
  method, headers: { authorization: `Bearer ${harness.adminToken}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
});

/** Polls `condition` until it holds, at most 10 s (the test's caches trust a token for 10 minutes: only a notification can end that sooner). */
async function eventually(condition: () => Promise<boolean>): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 25) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

test("a working token is looked up once, then trusted; an unknown one is looked up every time", async () => {
  const cache = new ScimTokenCache();
  const client = await harness.tenant("cache-hit");
  expect(await tokenLookups(async () => {
    for (let i = 0; i < 5; i++) expect(await cache.verify(harness.db.knex, client.token)).toMatchObject({ connectionId: client.connectionId });
  })).toBe(1);
  expect(await tokenLookups(async () => {
    for (let i = 0; i < 3; i++) expect(await cache.verify(harness.db.knex, `${client.token}x`)).toBeUndefined();
  })).toBe(3);
  // IDSYNC_SCIM_TOKEN_CACHE_SECONDS=0: every request is looked up
  const uncached = new ScimTokenCache({ ttlMs: 0 });
  expect(await tokenLookups(async () => {
    for (let i = 0; i < 3; i++) expect(await uncached.verify(harness.db.knex, client.token)).toMatchObject({ connectionId: client.connectionId });
  })).toBe(3);
});

test("a token revoked or rotated through the admin API is refused on the very next request", async () => {
  const client = await harness.tenant("cache-revoke");
  expect((await client.get("/Users?count=1")).status).toBe(200); // now cached
  expect((await admin("POST", `/connections/${client.connectionId}/tokens/revoke`)).status).toBe(200);
  expect((await client.get("/Users?count=1")).status).toBe(401);

  const rotated = await (await admin("POST", `/connections/${client.connectionId}/tokens/rotate`, { graceMinutes: 0 })).json() as { token: string };
  const next = scimClient(harness.scimUrl, rotated.token, client);
  expect((await next.get("/Users?count=1")).status).toBe(200); // now cached
  expect((await admin("POST", `/connections/${client.connectionId}/tokens/rotate`, { graceMinutes: 0 })).status).toBe(201);
  expect((await next.get("/Users?count=1")).status).toBe(401);
});

test("a revocation or a disabled connection written by another process reaches the cache by NOTIFY", async () => {
  // the harness's app keeps its own cache, which hears only its admin API; this one listens as `idsync serve`'s does
  const cache = new ScimTokenCache({ ttlMs: 10 * 60_000 });
  const unlisten = await harness.db.listen(SCIM_TOKENS_CHANGED_CHANNEL, (payload) => cache.onChanged(payload));
  try {
    const [revoked, disabled, kept, fence] = await Promise.all(["revoked", "disabled", "kept", "fence"].map((name) => harness.tenant(`cache-notify-${name}`))) as [ScimClient, ScimClient, ScimClient, ScimClient];
    const works = async (client: ScimClient) => (await cache.verify(harness.db.knex, client.token)) !== undefined;
    for (const client of [revoked, disabled, kept, fence]) expect(await works(client)).toBe(true);
    // as another replica or an operator's SQL would: not through this process
    await harness.db.knex.raw("update scim_tokens set revoked_at = now() where connection_id = ?", [revoked.connectionId]);
    await harness.db.knex.raw("update directory_connections set status = 'disabled' where id = ?", [disabled.connectionId]);
    expect(await eventually(async () => !(await works(revoked)))).toBe(true);
    expect(await eventually(async () => !(await works(disabled)))).toBe(true);
    // the last-used mark written once a minute is no change and flushes nothing: once a later notice
    // (the fence) has arrived, the kept token is still trusted without a lookup
    await harness.db.knex.raw("update scim_tokens set last_used_at = now() where connection_id = ?", [kept.connectionId]);
    await harness.db.knex.raw("select pg_notify(?, ?)", [SCIM_TOKENS_CHANGED_CHANNEL, fence.connectionId]);
    expect(await eventually(async () => (await tokenLookups(() => works(fence))) === 1)).toBe(true);
    expect(await tokenLookups(() => works(kept))).toBe(0);
  } finally {
    await unlisten();
  }
});

test("a token is trusted no longer than its own expiry, however long the cache's TTL", async () => {
  let now = Date.now();
  const cache = new ScimTokenCache({ ttlMs: 10 * 3_600_000, now: () => now });
  const client = await harness.tenant("cache-expiry");
  await harness.db.knex.raw("update scim_tokens set expires_at = now() + interval '1 hour' where connection_id = ?", [client.connectionId]);
  expect(await tokenLookups(() => cache.verify(harness.db.knex, client.token))).toBe(1);
  now += 30 * 60_000;
  expect(await tokenLookups(() => cache.verify(harness.db.knex, client.token))).toBe(0);
  now += 31 * 60_000; // past expires_at: asked again (the database, on its own clock, still accepts it)
  expect(await tokenLookups(() => cache.verify(harness.db.knex, client.token))).toBe(1);
});

test("a lookup under way when a connection is forgotten does not cache what it read", async () => {
  const cache = new ScimTokenCache();
  const client = await harness.tenant("cache-race");
  const lookups = await tokenLookups(async () => {
    const pending = cache.verify(harness.db.knex, client.token); // its statement may predate a revocation…
    cache.forgetConnection(client.connectionId); // …that this forget announces
    await pending;
    await cache.verify(harness.db.knex, client.token);
  });
  expect(lookups).toBe(2);
});

test("idsync serve hears a revocation written by another writer, though it trusts verified tokens for a minute", async () => {
  // `idsync serve` as it starts, on a database of its own, with IDSYNC_SCIM_TOKEN_CACHE_SECONDS at its
  // maximum: within the 10 s the poll allows, only the notification its listener hears can end the trust
  const store = await createFaultStore();
  const settings = loadSettings(store.env({ LOG_LEVEL: "silent", PORT: "0", HOST: "127.0.0.1", IDSYNC_DEMO: "false", IDSYNC_SCIM_TOKEN_CACHE_SECONDS: "60" }));
  const running = await startServer(settings, createLogger("silent"), { scheduler: false, announce: () => undefined });
  // the other writer: a pool of its own on PostgreSQL (as another replica or psql); the embedded
  // database admits one process, so there the server's own handle, past its admin API
  const other = store.kind === "postgres" ? await store.open() : { knex: running.database.knex, close: async () => undefined };
  try {
    await createAccount(other.knex, { slug: "served", domains: ["served.example.com"] }, "test");
    const issued = await createScimConnection(other.knex, "served", undefined, "test");
    const status = async () => (await fetch(`${running.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${issued.token}` } })).status;
    expect(await status()).toBe(200); // verified, and now trusted for 60 s
    await other.knex.raw("update scim_tokens set revoked_at = now() where connection_id = ?", [issued.connection.id]);
    expect(await eventually(async () => (await status()) === 401)).toBe(true);
  } finally {
    await other.close();
    await running.close();
    await store.drop();
  }
}, 60_000);
