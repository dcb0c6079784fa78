// The status page at `/`: server-rendered, readable without JavaScript. It asks for an admin token once
// and keeps it in a session cookie (HttpOnly, SameSite=Strict, gone when the browser closes); every
// page checks it like the admin API does. Approve and Reject are plain form posts; SameSite=Strict
// keeps other sites from posting them with the operator's cookie, and the Origin is checked too.
import express, { type Request, type Response } from "express";
import type { Knex } from "knex";
import { runSql } from "../../db/run-sql.ts";
import { verifyAdminToken, type AdminPrincipal } from "../../accounts/admin-tokens.ts";
import { findRun } from "../../accounts/membership-views.ts";
import { approveHeldRun, rejectHeldRun } from "../../reconcile/runs.ts";
import { html, page } from "./html.ts";
import { accountsOverview, accountStatus } from "./status-data.ts";
import { runsChart } from "./runs-chart.ts";
import { listSchedules } from "../../scheduler/schedule-list.ts";

const COOKIE = "idsync_session";

function sessionToken(req: Request): string | undefined {
  const match = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`).exec(req.get("cookie") ?? "");
  return match ? decodeURIComponent(match[1]!) : undefined;
}

const when = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "—");

function loginPage(message?: string): string {
  return page("Sign in", html`<section><h1>Sign in</h1>
<p>Paste an admin token (the one <code>idsync serve</code> printed, or <code>IDSYNC_ADMIN_TOKEN</code>). It is kept for this browser session only.</p>
${message ? html`<p class="failed">${message}</p>` : ""}
<form method="post" action="/login"><label>Admin token <input type="password" name="token" autocomplete="off" size="50" required></label> <button class="primary">Sign in</button></form></section>`, false);
}

export function statusRouter(db: Knex, fullReconcileSchedule: string): express.Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: "4kb" }));

  const principal = async (req: Request): Promise<AdminPrincipal | undefined> => {
    const token = sessionToken(req);
    return token ? verifyAdminToken(db, token) : undefined;
  };
  // req.host: the Host header, or X-Forwarded-Host from a trusted proxy (IDSYNC_TRUST_PROXY)
  const sameOrigin = (req: Request) => {
    const origin = req.get("origin");
    if (!origin || origin === "null") return true;
    return URL.canParse(origin) && new URL(origin).host === req.host;
  };

  router.get("/", async (req, res) => {
    if (!(await principal(req))) return res.type("html").send(loginPage());
    const accounts = await accountsOverview(db);
    const schedules = await listSchedules(db, fullReconcileSchedule);
    res.type("html").send(page("Accounts", html`<h1>Accounts</h1><section><table>
<tr><th>account</th><th>active members</th><th>held runs</th><th>open alerts</th></tr>
${accounts.map((a) => html`<tr><td><a href="/accounts/${encodeURIComponent(a.slug)}">${a.slug}</a> <span class="muted">${a.name}</span></td><td>${a.members}</td>
<td class="${a.held ? "held" : ""}">${a.held}</td><td>${a.alerts}</td></tr>`)}</table></section>
<section><h2>Schedules</h2><table class="schedules"><tr><th>what</th><th>account</th><th>cron (UTC)</th><th>next run</th><th>last slot queued</th></tr>
${schedules.map((s) => html`<tr><td>${s.what}</td><td>${s.account ?? html`<span class="muted">all</span>`}</td><td><code>${s.cron}</code></td><td>${when(s.nextRun)}</td>
<td>${s.lastSlot ? html`${when(s.lastSlot.slot)} <span class="muted">by ${s.lastSlot.claimedBy}, ${s.lastSlot.jobs} job(s)</span>` : "—"}</td></tr>`)}</table></section>`, true));
  });

  router.post("/login", async (req, res) => {
    const token = typeof req.body?.token === "string" ? req.body.token.trim() : "";
    if (!sameOrigin(req) || !token || !(await verifyAdminToken(db, token))) return res.status(401).type("html").send(loginPage("That is not a valid admin token."));
    // Secure only over HTTPS (directly or said by a trusted proxy): a browser drops a Secure cookie
    // set over plain HTTP, and the operator could never sign in
    res.cookie(COOKIE, token, { httpOnly: true, sameSite: "strict", secure: req.secure, path: "/" });
    res.redirect(303, "/");
  });

  router.post("/logout", (_req, res) => {
    res.clearCookie(COOKIE, { path: "/" });
    res.redirect(303, "/");
  });

  router.get("/accounts/:slug", async (req, res) => {
    if (!(await principal(req))) return res.status(401).type("html").send(loginPage());
    const status = await accountStatus(db, String(req.params.slug));
    if (!status) return res.status(404).type("html").send(page("Not found", html`<p>No account ${req.params.slug}.</p>`, true));
    const { account, connections, held, kept, alerts, audit, webhooks } = status;
    res.type("html").send(page(account.slug, html`<h1>${account.slug} <span class="muted">${account.name}</span></h1>
<section><h2>Connections</h2><table><tr><th>connection</th><th>last run</th><th>next run</th></tr>
${connections.map((c) => html`<tr><td>${c.kind} · ${c.name} <span class="connection-status ${c.status}">${c.status}</span><br><span class="muted">${c.id}</span></td>
<td>${c.lastRun ? html`<span class="${c.lastRun.status}">${c.lastRun.status}</span> ${when(c.lastRun.startedAt)}${c.lastRun.error ? html`<br><span class="muted">${c.lastRun.error}</span>` : ""}` : "—"}</td>
<td>${c.kind === "scim" ? html`<span class="muted">pushed by the IdP</span>` : when(c.nextRun)}</td></tr>
<tr><td colspan="3">${runsChart(c.runs)}</td></tr>`)}</table></section>
<section><h2>Held runs</h2>${held.length === 0 ? html`<p class="muted">None: no run is waiting for approval.</p>` : held.map((r) => html`<div class="held-run" id="run-${r.id}">
<p><span class="held">${r.status}</span> run ${r.id}, held ${when(r.heldAt)}${r.supersededBy ? html` (superseded by run ${r.supersededBy}; still approvable for what it showed)` : ""}: ${r.message}</p>
<table><tr><th>action</th><th>who</th><th>what</th><th>why</th></tr>${r.withheld.map((w) => html`<tr><td>${w.action}</td><td>${w.who}</td><td>${w.what}</td><td>${w.why}</td></tr>`)}</table>
<p><form class="inline" method="post" action="/runs/${r.id}/approve"><button class="primary">Approve</button></form>
<form class="inline" method="post" action="/runs/${r.id}/reject"><button>Reject</button></form></p></div>`)}</section>
<section><h2>Access kept by an operator's decision</h2>${kept.length === 0 ? html`<p class="muted">None.</p>` : html`<table><tr><th>who</th><th>rejected in run</th><th>removals kept</th><th>since</th><th>by</th></tr>
${kept.map((k) => html`<tr><td>${k.email}</td><td>${k.runId ?? "—"}</td><td>${k.removals}</td><td>${when(k.rejectedAt)}</td><td>${k.rejectedBy}</td></tr>`)}</table>
<p class="muted">Kept until the person's IdP facts change, or <code>idsync runs lift --account ${account.slug}</code>.</p>`}</section>
<section><h2>Open alerts</h2>${alerts.length === 0 ? html`<p class="muted">None.</p>` : html`<table><tr><th>kind</th><th>detail</th><th>since</th></tr>
${alerts.map((a: { kind: string; detail: string; created_at: Date }) => html`<tr><td>${a.kind}</td><td>${a.detail}</td><td>${when(a.created_at)}</td></tr>`)}</table>`}</section>
<section><h2>Webhooks</h2>${webhooks.length === 0 ? html`<p class="muted">None configured (POST /admin/v1/accounts/${account.slug}/webhooks).</p>` : html`<table>
<tr><th>url</th><th>status</th><th>delivered</th><th>pending</th><th>failed</th></tr>
${webhooks.map((w) => html`<tr><td>${w.url}</td><td>${w.status}</td><td>${w.deliveries.delivered}</td><td>${w.deliveries.pending}</td><td class="${w.deliveries.failed ? "failed" : ""}">${w.deliveries.failed}</td></tr>`)}</table>`}</section>
<section><h2>Recent audit</h2><table class="audit"><tr><th>when</th><th>run</th><th>actor</th><th>action</th><th>target</th><th>rule</th><th>change</th></tr>
${audit.map((a) => html`<tr><td>${when(a.occurred_at)}</td><td>${a.run_id ? html`<code title="${a.run_id}">${a.run_id.slice(0, 8)}</code>` : "—"}</td>
<td>${a.actor}</td><td>${a.action}</td><td>${a.target_name ?? a.target_type}<br><span class="muted">${a.target_type} ${a.target_id ?? ""}</span></td>
<td>${a.rule ?? ""}</td><td>${a.change}</td></tr>`)}</table></section>`, true));
  });

  const decide = (approve: boolean) => async (req: Request, res: Response) => {
    const who = await principal(req);
    if (!who || !sameOrigin(req)) return res.status(401).type("html").send(loginPage());
    const run = await findRun(db, String(req.params.id));
    if (!run) return res.status(404).type("html").send(page("Not found", html`<p>No run ${req.params.id}.</p>`, true));
    const actor = `operator:${who.name} (status page)`;
    try {
      if (approve) await approveHeldRun(db, run, actor);
      else await rejectHeldRun(db, run, actor);
    } catch (error) {
      return res.status(409).type("html").send(page("Not held", html`<p>${(error as Error).message}</p>`, true));
    }
    const { rows: [account] } = await runSql<{ slug: string }>(db, `select slug from accounts where id = ?`, [run.account_id]);
    res.redirect(303, `/accounts/${encodeURIComponent(account!.slug)}`);
  };
  router.post("/runs/:id/approve", decide(true));
  router.post("/runs/:id/reject", decide(false));
  return router;
}
