// Load: several accounts' SCIM clients, each above Entra's 25 requests per second, mixing the calls IdPs
// make (create, filter, read, PATCH), against `idsync serve` in its own process under its default rate
// limits. Nothing may fail, and the server's memory may not grow once warm. Latency is printed, not
// asserted (no timing assertions in tests). CI runs it for 20 s; `npm run soak` for 5 minutes.
import { afterAll, beforeAll, expect, test } from "vitest";
import { ADMIN_TOKEN, createFaultStore, spawnServe, type FaultStore, type ServeChild } from "./serve-child.ts";

const FULL = process.env.SOAK === "full";
const ACCOUNTS = FULL ? 5 : 3;
const SECONDS = FULL ? 300 : 20;
/** Requests per second per account: above Entra's 25. */
const RATE = 30;
/** Requests in flight per account, as Entra sends them (it runs several at once). */
const LANES = 4;
const URN = { user: "urn:ietf:params:scim:schemas:core:2.0:User", group: "urn:ietf:params:scim:schemas:core:2.0:Group", patchOp: "urn:ietf:params:scim:api:messages:2.0:PatchOp" };

let store: FaultStore;
let server: ServeChild;
beforeAll(async () => {
  store = await createFaultStore();
  server = await spawnServe(store);
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await store?.drop();
});

interface Tally { requests: number; errors: string[]; latencies: number[] }

async function scimTenant(slug: string): Promise<string> {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
  const created = await fetch(`${server.url}/admin/v1/accounts`, { method: "POST", headers: admin, body: JSON.stringify({ slug, domains: [`${slug}.example.com`], ownerEmail: `owner@${slug}.example.com` }) });
  expect(created.status).toBe(201);
  const connection = await fetch(`${server.url}/admin/v1/accounts/${slug}/connections`, { method: "POST", headers: admin, body: JSON.stringify({ kind: "scim" }) });
  return ((await connection.json()) as { token: string }).token;
}

/** One account's IdP: a paced stream of mixed SCIM calls for `seconds`. */
async function idp(slug: string, token: string, seconds: number, tally: Tally): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/scim+json" };
  const ids: string[] = [];
  let group: string | undefined;
  const call = async (method: string, path: string, body?: unknown, expected = [200, 201, 204]) => {
    const started = performance.now();
    const response = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    tally.latencies.push(performance.now() - started);
    tally.requests++;
    if (!expected.includes(response.status)) tally.errors.push(`${slug} ${method} ${path} → ${response.status} ${text.slice(0, 200)}`);
    else if (text && !text.includes(slug) && method !== "DELETE" && response.status !== 204 && !path.startsWith("/Users?filter")) {
      tally.errors.push(`${slug} ${method} ${path} answered without the account's data`);
    }
    return text ? JSON.parse(text) : undefined;
  };
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const lane = async () => {
    // open loop: each lane keeps its own schedule, so a slow answer does not lower the offered rate
    let due = Date.now();
    while (Date.now() < end) {
      due += (LANES * 1000) / RATE;
      const i = n++;
      const kind = i % 10;
      if (kind < 3 || ids.length < 5) {
        const created = await call("POST", "/Users", { schemas: [URN.user], userName: `u${i}@${slug}.example.com`, name: { givenName: "Load", familyName: `${i}` }, emails: [{ value: `u${i}@${slug}.example.com`, primary: true, type: "work" }] });
        if (created?.id) ids.push(created.id);
      } else if (kind < 5) {
        const found = await call("GET", `/Users?filter=${encodeURIComponent(`userName eq "u${i % ids.length}@${slug}.example.com"`)}`);
        if (found && found.Resources?.some((r: { userName: string }) => !r.userName.endsWith(`@${slug}.example.com`))) tally.errors.push(`${slug} saw another account's user`);
      } else if (kind < 7) {
        await call("GET", `/Users/${ids[i % ids.length]}`);
      } else if (kind < 9) {
        await call("PATCH", `/Users/${ids[i % ids.length]}`, { schemas: [URN.patchOp], Operations: [{ op: "replace", value: { active: i % 4 !== 0 } }] });
      } else if (!group) {
        group = (await call("POST", "/Groups", { schemas: [URN.group], displayName: `${slug} load group` }))?.id;
      } else {
        await call("PATCH", `/Groups/${group}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: [{ value: ids[i % ids.length] }] }] });
      }
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ?? 0;
const median = (values: number[]) => percentile(values, 50);

test(`${ACCOUNTS} accounts, each at ${RATE} req/s for ${SECONDS} s: no errors, no other account's data, memory flat once warm`, async () => {
  const tokens = await Promise.all(Array.from({ length: ACCOUNTS }, (_, a) => scimTenant(`load-${a}`)));
  const tally: Tally = { requests: 0, errors: [], latencies: [] };
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(server.rss()), 500);
  const started = performance.now();
  try {
    await Promise.all(tokens.map((token, a) => idp(`load-${a}`, token, SECONDS, tally)));
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  // warm = after the first third; growth compares the last third with the middle one
  const third = Math.floor(rss.length / 3);
  const middle = median(rss.slice(third, 2 * third));
  const last = median(rss.slice(2 * third));
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`SOAK load: accounts=${ACCOUNTS} seconds=${seconds.toFixed(0)} requests=${tally.requests} rate_per_account=${(tally.requests / seconds / ACCOUNTS).toFixed(1)} ` +
    `errors=${tally.errors.length} p50_ms=${percentile(tally.latencies, 50).toFixed(1)} p99_ms=${percentile(tally.latencies, 99).toFixed(1)} max_ms=${Math.max(...tally.latencies).toFixed(0)} ` +
    `rss_mid_mib=${mib(middle)} rss_last_mib=${mib(last)} rss_max_mib=${mib(Math.max(...rss))}`);
  expect(tally.errors.slice(0, 5)).toEqual([]);
  // the achieved rate is printed, not asserted: it measures the machine (no timing assertions in tests)
  // a leak grows with the requests served; allocator noise stays within a few per cent
  expect(last).toBeLessThan(middle * 1.15 + 16 * 2 ** 20);
}, (SECONDS + 120) * 1000);
