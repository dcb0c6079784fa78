// Security headers and the session cookie fit how a request arrived. Over plain HTTP from an address
// that is not localhost (a VM, a LAN host, a container reached by its IP) a real Chromium must be able
// to sign in to the status page: no Content-Security-Policy `upgrade-insecure-requests` (the browser
// would post the sign-in form to https, where nothing listens), no HSTS, no Secure cookie (the browser
// would drop it). Over HTTPS, said by a proxy idsync trusts (IDSYNC_TRUST_PROXY), all three are sent;
// the same header from a peer it does not trust changes nothing.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { nonLoopbackAddress, type NonLoopbackAddress } from "../support/non-loopback-address.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
// CI installs Chromium and sets IDSYNC_REQUIRE_BROWSER=1, so there the browser test can never be skipped quietly
const required = process.env.IDSYNC_REQUIRE_BROWSER === "1";
const withBrowser = CHROMIUM !== undefined || required ? test : test.skip;

let direct: ScimHarness; // no proxy trusted (the default)
let proxied: ScimHarness; // IDSYNC_TRUST_PROXY=loopback: a proxy on this machine
let lan: NonLoopbackAddress;
let browser: Browser | undefined;

const port = (harness: ScimHarness) => new URL(harness.url).port;
const lanUrl = (harness: ScimHarness) => `http://${lan.address}:${port(harness)}`;

beforeAll(async () => {
  lan = nonLoopbackAddress();
  direct = await startScimHarness({ host: "0.0.0.0" });
  proxied = await startScimHarness({ host: "0.0.0.0", env: { IDSYNC_TRUST_PROXY: "loopback" } });
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  else if (required) throw new Error("IDSYNC_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await direct?.close();
  await proxied?.close();
  lan?.release();
});

withBrowser("an operator signs in to the status page over plain HTTP through a non-loopback address", async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const base = lanUrl(direct);
  await page.goto(`${base}/`);
  await expect(page.textContent("h1")).resolves.toBe("Sign in");
  await page.fill("input[name=token]", direct.adminToken);
  await Promise.all([page.waitForNavigation({ waitUntil: "load", timeout: 15_000 }).catch(() => undefined), page.click("button.primary")]);
  expect(page.url()).toBe(`${base}/`); // not https://…/login, where nothing answers
  await expect(page.textContent("h1")).resolves.toBe("Accounts");
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "idsync_session", httpOnly: true, sameSite: "Strict", secure: false });
  await context.close();
}, 60_000);

interface Answer { hsts: string | null; csp: string; cookie: string }

/** The headers of the sign-in page and the cookie a sign-in sets, asked of `base` with `headers`. */
async function answer(harness: ScimHarness, base: string, headers: Record<string, string> = {}): Promise<Answer> {
  const pageAnswer = await fetch(`${base}/`, { headers });
  const signIn = await fetch(`${base}/login`, {
    method: "POST", redirect: "manual",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: harness.adminToken }),
  });
  expect(signIn.status).toBe(303);
  return { hsts: pageAnswer.headers.get("strict-transport-security"), csp: pageAnswer.headers.get("content-security-policy") ?? "", cookie: signIn.headers.get("set-cookie") ?? "" };
}

const expectHttps = (a: Answer) => {
  expect(a.hsts).toMatch(/max-age=\d+/);
  expect(a.csp).toContain("upgrade-insecure-requests");
  expect(a.cookie).toMatch(/^idsync_session=.*;\s*Secure/i);
};
const expectPlainHttp = (a: Answer) => {
  expect(a.hsts).toBeNull();
  expect(a.csp).toContain("default-src 'self'"); // the rest of the policy stays
  expect(a.csp).not.toContain("upgrade-insecure-requests");
  expect(a.cookie).toMatch(/^idsync_session=/);
  expect(a.cookie).not.toMatch(/;\s*Secure/i);
};

test("behind a trusted proxy that says X-Forwarded-Proto: https, HSTS, upgrade-insecure-requests and a Secure cookie are sent", async () => {
  expectHttps(await answer(proxied, proxied.url, { "x-forwarded-proto": "https" }));
});

test("over plain HTTP there is no HSTS, no upgrade-insecure-requests and no Secure cookie, loopback or not", async () => {
  expectPlainHttp(await answer(direct, direct.url));
  expectPlainHttp(await answer(direct, lanUrl(direct)));
  expectPlainHttp(await answer(proxied, proxied.url)); // a trusted proxy that says nothing: plain HTTP
  expectPlainHttp(await answer(proxied, proxied.url, { "x-forwarded-proto": "http" }));
});

test("X-Forwarded-Proto from a peer idsync does not trust changes nothing", async () => {
  expectPlainHttp(await answer(direct, direct.url, { "x-forwarded-proto": "https" })); // no proxy trusted
  expectPlainHttp(await answer(proxied, lanUrl(proxied), { "x-forwarded-proto": "https" })); // the peer is not loopback
});

test("behind a trusted proxy, a sign-in form posted from the public host the proxy names is accepted", async () => {
  const signIn = (headers: Record<string, string>) => fetch(`${proxied.url}/login`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token: proxied.adminToken }),
  });
  const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "idsync.example.com", origin: "https://idsync.example.com" };
  expect((await signIn(forwarded)).status).toBe(303);
  expect((await signIn({ ...forwarded, origin: "https://evil.example" })).status).toBe(401);
  expect((await signIn({ origin: "not a url" })).status).toBe(401); // a malformed Origin is refused, not a 500
});

/** Statuses of `count` SCIM requests with a wrong token, each claiming to be forwarded for `forwardedFor(i)`. */
async function guesses(base: string, count: number, forwardedFor: (i: number) => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${base}/scim/v2/Users`, { headers: { authorization: `Bearer wrong-${i}`, "x-forwarded-for": forwardedFor(i) } });
    statuses.push(response.status);
  }
  return statuses;
}

test("the failed-token throttle counts the client a trusted proxy names, and ignores X-Forwarded-For from anyone else", async () => {
  // 20 failures are allowed in a burst (DEFAULT_AUTH_THROTTLE), then 429
  const forged = await guesses(lanUrl(direct), 25, (i) => `203.0.113.${i}`); // an untrusted peer names a new client each time
  expect(forged.slice(0, 20).every((s) => s === 401)).toBe(true);
  expect(forged.slice(20)).toEqual([429, 429, 429, 429, 429]);
  const proxiedGuesser = await guesses(proxied.url, 21, () => "198.51.100.1");
  expect(proxiedGuesser.at(-1)).toBe(429);
  expect(await guesses(proxied.url, 1, () => "198.51.100.2")).toEqual([401]); // another client behind the proxy is not throttled with it
});
