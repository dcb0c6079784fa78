// Admin API for the reconciler: rules, dry-run plans, reconciles, held runs, and what operators
// review (members, access, audit) or create to exercise offboarding (keys, sessions, invitations).
import express from "express";
import type { Knex } from "knex";
import { findAccount } from "../../accounts/accounts.ts";
import { getRulesDocument, saveRules } from "../../accounts/account-rules.ts";
import { createApiKey, createInvitation, createSession, KeyNotAllowedError } from "../../accounts/api-keys.ts";
import { accessReview, findRun, listAudit, listKeys, listMembers, listRuns, planNames, userIdByEmail } from "../../accounts/membership-views.ts";
import { parseRulesDocument } from "../../mapping/rules-document.ts";
import { reconcileAccount } from "../../reconcile/reconcile-account.ts";
import { describePlan } from "../../reconcile/describe-plan.ts";
import { runSql } from "../../db/run-sql.ts";
import { approveHeldRun, rejectHeldRun } from "../../reconcile/runs.ts";
import { BadRequestError, NotFoundError } from "../problem.ts";

type Actor = (req: express.Request) => string;

function documentOf(req: express.Request): string {
  if (typeof req.body === "string") return req.body;
  if (typeof req.body?.document === "string") return req.body.document;
  throw new BadRequestError(`send the rules document as text (Content-Type: application/yaml) or as {"document": "…"}`);
}

export function reconcileRoutes(db: Knex, actorOf: Actor): express.Router {
  const router = express.Router();
  router.use(express.text({ type: ["application/yaml", "text/yaml", "text/plain"], limit: "1mb" }));
  const account = (req: express.Request) => findAccount(db, String(req.params.slug));

  router.post("/rules/check", (req, res) => {
    const rules = parseRulesDocument(documentOf(req));
    res.json({ valid: true, rules: rules.rules.length, defaultRole: rules.defaultRole, policy: rules.policy });
  });
  router.put("/accounts/:slug/rules", async (req, res) => {
    const { id } = await account(req);
    const saved = await saveRules(db, id, documentOf(req), actorOf(req));
    res.json({ version: saved.version, rules: saved.rules.rules.length });
  });
  router.get("/accounts/:slug/rules", async (req, res) => {
    const stored = await getRulesDocument(db, (await account(req)).id);
    if (!stored) throw new NotFoundError("this account has no rules yet: nothing is granted until `idsync rules set`");
    res.json(stored);
  });

  router.get("/accounts/:slug/plan", async (req, res) => {
    const { id } = await account(req);
    const result = await reconcileAccount(db, id, { trigger: "dry-run", dryRun: true });
    res.json({ actions: result.plan.actions, rows: describePlan(result.plan, await planNames(db, id)), manualMembers: result.plan.manualMembers, warnings: result.plan.warnings });
  });
  router.post("/accounts/:slug/reconcile", async (req, res) => {
    const { id } = await account(req);
    const result = await reconcileAccount(db, id, { trigger: "operator", actor: actorOf(req) });
    res.json({ runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld, rows: describePlan(result.plan, await planNames(db, id)) });
  });

  router.get("/accounts/:slug/runs", async (req, res) => res.json({ runs: await listRuns(db, (await account(req)).id) }));
  router.get("/runs/:id", async (req, res) => {
    const run = await findRun(db, String(req.params.id));
    if (!run) throw new NotFoundError(`no run ${req.params.id}`);
    res.json({ run });
  });
  router.post("/runs/:id/approve", async (req, res) => {
    const run = await findRun(db, String(req.params.id));
    if (!run) throw new NotFoundError(`no run ${req.params.id}`);
    const result = await approveHeldRun(db, run, actorOf(req));
    res.json({ runId: result.runId, status: result.status, applied: result.applied });
  });
  router.post("/runs/:id/reject", async (req, res) => {
    const run = await findRun(db, String(req.params.id));
    if (!run) throw new NotFoundError(`no run ${req.params.id}`);
    await rejectHeldRun(db, run, actorOf(req));
    res.json({ runId: run.id, status: "rejected" });
  });

  router.get("/accounts/:slug/members", async (req, res) => res.json({ members: await listMembers(db, (await account(req)).id) }));
  router.get("/accounts/:slug/review", async (req, res) => res.json({ review: await accessReview(db, (await account(req)).id) }));
  router.get("/accounts/:slug/audit", async (req, res) => {
    const limit = Math.min(Number(req.query.limit ?? 100) || 100, 1000);
    const before = req.query.before === undefined ? undefined : Number(req.query.before);
    if (before !== undefined && !Number.isInteger(before)) throw new BadRequestError("before must be an audit row id");
    const text = (name: string) => (typeof req.query[name] === "string" && req.query[name] !== "" ? String(req.query[name]) : undefined);
    const runId = text("run");
    if (runId !== undefined && !/^[0-9a-f-]{36}$/i.test(runId)) throw new BadRequestError("run must be a run id");
    const email = text("email");
    const userId = email === undefined ? undefined : await userIdByEmail(db, email);
    if (email !== undefined && !userId) throw new NotFoundError(`no user with the email ${email}`);
    res.json({ audit: await listAudit(db, (await account(req)).id, limit, { before, action: text("action"), actor: text("actor"), runId, targetId: text("target"), userId }) });
  });
  router.get("/accounts/:slug/alerts", async (req, res) => {
    const { rows } = await runSql(db, `select id, kind, detail, data, run_id, created_at from alerts where account_id = ? and resolved_at is null order by created_at desc`, [(await account(req)).id]);
    res.json({ alerts: rows });
  });

  const userOf = async (req: express.Request): Promise<string> => {
    const email = req.body?.email;
    if (typeof email !== "string") throw new BadRequestError("email is required");
    const userId = await userIdByEmail(db, email);
    if (!userId) throw new NotFoundError(`no user ${email}`);
    return userId;
  };
  router.get("/accounts/:slug/keys", async (req, res) => res.json({ keys: await listKeys(db, (await account(req)).id) }));
  router.post("/accounts/:slug/keys", async (req, res) => {
    const { id } = await account(req);
    const domains = req.body?.domains;
    if (domains !== undefined && (!Array.isArray(domains) || domains.some((d: unknown) => typeof d !== "string"))) throw new BadRequestError("domains must be a list of domain names");
    try {
      const key = await createApiKey(db, { accountId: id, userId: await userOf(req), name: String(req.body?.name ?? "api key"), domains, organizationWide: req.body?.organizationWide === true });
      res.status(201).json(key);
    } catch (error) {
      if (error instanceof KeyNotAllowedError) throw new BadRequestError(error.message);
      throw error;
    }
  });
  router.post("/accounts/:slug/sessions", async (req, res) => {
    res.status(201).json({ id: await createSession(db, (await account(req)).id, await userOf(req)) });
  });
  router.post("/accounts/:slug/invitations", async (req, res) => {
    const { id } = await account(req);
    const role = req.body?.role === "admin" ? "admin" : "member";
    const inviter = req.body?.invitedBy;
    const invitedBy = typeof inviter === "string" ? await userIdByEmail(db, inviter) : null;
    if (invitedBy === undefined) throw new NotFoundError(`no user ${inviter}`);
    const email = req.body?.email;
    if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new BadRequestError("email must be an email address");
    if (req.body?.role !== undefined && req.body.role !== "admin" && req.body.role !== "member") throw new BadRequestError("role must be admin or member");
    res.status(201).json({ id: await createInvitation(db, { accountId: id, email, role, invitedBy }) });
  });
  return router;
}
