// The status page in a real headless Chromium (Debian's, driven by playwright-core): an operator signs
// in with an admin token, opens an account with a run held by the removal brake, reads what it would
// remove, approves it in the page, and the removals are applied. Also readable without JavaScript.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, expect, test } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { findAccount } from "../../src/accounts/accounts.ts";
import { saveRules } from "../../src/accounts/account-rules.ts";
import { reconcileAccount } from "../../src/reconcile/reconcile-account.ts";
import { URN } from "../../src/sources/scim/schemas.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
// CI installs Chromium and sets IDSYNC_REQUIRE_BROWSER=1, so there this test can never be skipped quietly
const required = process.env.IDSYNC_REQUIRE_BROWSER === "1";
const run = CHROMIUM !== undefined || required ? test : test.skip;

let harness: ScimHarness;
let browser: Browser | undefined;
let accountId: string;
let heldRunId: string;
const PEOPLE = 30;

beforeAll(async () => {
  if (!CHROMIUM && !required) return;
  if (!CHROMIUM) throw new Error("IDSYNC_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
  harness = await startScimHarness();
  const client = await harness.tenant("status");
  accountId = (await findAccount(harness.db.knex, "status")).id;
  await saveRules(harness.db.knex, accountId, `version: 1\nrules:\n  - name: devs\n    group: Developers\n    domains:\n      status.example.com: write\n`, "test");
  const group = (await client.post("/Groups", { schemas: [URN.group], displayName: "Developers" })).body.id;
  const ids: string[] = [];
  for (let i = 0; i < PEOPLE; i++) ids.push((await client.post("/Users", { schemas: [URN.user], userName: `p${i}@status.example.com` })).body.id);
  await client.patch(`/Groups/${group}`, { schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: ids.map((value) => ({ value })) }] });
  await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  await client.patch(`/Groups/${group}`, { schemas: [URN.patchOp], Operations: [{ op: "remove", path: "members" }] });
  const held = await reconcileAccount(harness.db.knex, accountId, { trigger: "test" });
  expect(held.status).toBe("held");
  heldRunId = held.runId!;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const activeMembers = async () => (await harness.db.knex.raw(`select count(*)::int as n from memberships where account_id = ? and status = 'active'`, [accountId])).rows[0].n;

run("an operator signs in, sees the held run and what it withholds, approves it, and the removals are applied", async () => {
  const page = await browser!.newPage();
  await page.goto(`${harness.url}/`);
  await page.fill("input[name=token]", "not-a-token");
  await page.click("button.primary");
  await expect(page.textContent("body")).resolves.toContain("not a valid admin token");
  await page.fill("input[name=token]", harness.adminToken);
  await page.click("button.primary");
  await page.click("text=status");
  expect(page.url()).toBe(`${harness.url}/accounts/status`);
  const heldRun = page.locator(`#run-${heldRunId}`);
  // the message names the count in this run, the window and the limit
  await expect(heldRun.textContent()).resolves.toMatch(new RegExp(`held: ${PEOPLE * 2} removals in this run \\+ 0 applied in the last 15 min = ${PEOPLE * 2} > limit 10`));
  expect(await heldRun.locator("tr").count()).toBeGreaterThan(PEOPLE); // the withheld actions, one row each
  expect(await page.locator("svg[aria-label='runs over time']").count()).toBeGreaterThan(0);
  expect(await activeMembers()).toBe(PEOPLE + 1);

  await heldRun.locator("button", { hasText: "Approve" }).click();
  await page.waitForURL(`${harness.url}/accounts/status`);
  await expect(page.textContent("body")).resolves.toContain("None: no run is waiting for approval.");
  expect(await activeMembers()).toBe(1); // only the account's manual owner is left
  expect((await harness.db.knex.raw(`select status from sync_runs where id = ?`, [heldRunId])).rows[0].status).toBe("approved");
  await expect(page.textContent("body")).resolves.toContain("member.deprovisioned");
}, 60_000);

run("each connection's runs chart has a time axis, a tooltip per run (when, status, counts, run id) and the same runs as a table", async () => {
  const runs = (await harness.db.knex.raw(`select id, status, started_at, counts from sync_runs where account_id = ? and kind = 'reconcile' order by started_at`, [accountId])).rows;
  const page = await browser!.newPage({ viewport: { width: 1000, height: 900 } });
  await page.goto(`${harness.url}/`);
  await page.fill("input[name=token]", harness.adminToken);
  await page.click("button.primary");
  await page.goto(`${harness.url}/accounts/status`);
  const chart = page.locator("figure.runs-chart").first();
  const svg = chart.locator("svg[aria-label='runs over time']");
  // one bar group per run, in order, each titled with its start, status, counts and id
  expect(await svg.locator("g.run").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-run-id")))).toEqual(runs.map((r: { id: string }) => r.id));
  for (const r of runs) {
    const title = await svg.locator(`g.run[data-run-id="${r.id}"] > title`).textContent();
    expect(title).toContain(new Date(r.started_at).toISOString().replace("T", " ").slice(0, 19) + " UTC");
    expect(title).toContain(` · ${r.status} · ${r.counts.applied} applied, ${r.counts.removals} removals`);
    expect(title).toContain(`run ${r.id}`);
  }
  // the time axis: the first and the last run's start time (UTC; with seconds, as these runs span seconds) are labelled
  const axis = await svg.locator("text").allTextContents();
  for (const r of [runs[0], runs.at(-1)]) expect(axis).toContain(new Date(r.started_at).toISOString().slice(11, 19));
  expect(axis.some((t) => t.startsWith("run start (UTC"))).toBe(true);
  // the accessible table, newest first, with every run id
  await chart.locator("summary").click();
  const table = chart.locator("table.runs-table");
  await expect(table.isVisible()).resolves.toBe(true);
  expect(await table.locator("tr").count()).toBe(runs.length + 1);
  expect(await table.locator("tr").nth(1).textContent()).toContain(runs.at(-1).id);
  const shots = process.env.IDSYNC_SCREENSHOT_DIR ?? tmpdir(); // for a person to look at; nothing reads them back
  await page.screenshot({ path: `${shots}/status-page.png`, fullPage: true });
  await chart.screenshot({ path: `${shots}/status-runs-chart.png` });
  await page.close();
}, 60_000);

run("the page is readable without JavaScript, and the session cookie is HttpOnly and SameSite=Strict", async () => {
  const context = await browser!.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${harness.url}/`);
  await page.fill("input[name=token]", harness.adminToken);
  await page.click("button.primary");
  await page.goto(`${harness.url}/accounts/status`);
  await expect(page.textContent("h1")).resolves.toContain("status");
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "idsync_session", httpOnly: true, sameSite: "Strict" });
  expect(cookie!.expires).toBe(-1); // a session cookie: gone when the browser closes
  await context.close();
}, 60_000);

run("without a session the account page asks for the token, and a post from another origin is refused", async () => {
  const response = await fetch(`${harness.url}/accounts/status`);
  expect(response.status).toBe(401);
  expect(await response.text()).toContain("Sign in");
  const forged = await fetch(`${harness.url}/runs/${heldRunId}/reject`, { method: "POST", headers: { origin: "https://evil.example", cookie: `idsync_session=${harness.adminToken}` } });
  expect(forged.status).toBe(401);
});
