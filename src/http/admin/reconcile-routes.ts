// Admin API for the reconciler: rules, dry-run plans, reconciles, held runs, and what operators
// review (members, access, audit) or create to exercise offboarding (keys, sessions, invitations).
import express from "express";
import type { Knex } from "knex";
import { findAccount } from "../../accounts/accounts.ts";
import { getRulesDocument, saveRules } from "../../accounts/account-rules.ts";
import { createApiKey, createInvitation, createSession, KeyNotAllowedError } from "../../accounts/api-keys.ts";
import { accessReview, findRun, listAudit, listKeys, listMembers, listRuns, planNames, userIdByEmail } from "../../accounts/membership-views.ts";
import { parseRulesDocument } from "../../mapping/rules-document.ts";
import { reconcileAccount, type ReconcileResult } from "../../reconcile/reconcile-account.ts";
import { describePlan, type PlanNames } from "../../reconcile/describe-plan.ts";
import { runSql } from "../../db/run-sql.ts";
import { approveHeldRun, liftAccountRejections, rejectHeldRun, type DecisionScope } from "../../reconcile/runs.ts";
import { BadRequestError, NotFoundError } from "../problem.ts";

type Actor = (req: express.Request) => string;

function documentOf(req: express.Request): string {
  if (typeof req.body === "string") return req.body;
  if (typeof req.body?.document === "string") return req.body.document;
  throw new BadRequestError(`send the rules document as text (Content-Type: application/yaml) or as {"document": "…"}`);
}

/** A plan's rows, each removal marked with what the brake does with it. */
function planRows(result: ReconcileResult, names: PlanNames) {
  return describePlan(result.plan, names).map((row, index) => {
    const brake = result.brake?.marks.get(index);
    return brake ? { ...row, brake } : row;
  });
}

function brakeSummary(result: ReconcileResult) {
  return { message: result.brake?.message ?? null, heldRunId: result.brake?.heldRunId ?? null, verdict: result.brake?.verdict.message ?? null, kept: result.brake?.kept ?? 0 };
}

/** The people whose removals an operator rejected, by email, with the run that showed them. */
async function keptPeople(db: Knex, accountId: string) {
  const { rows } = await runSql<{ email: string; user_id: string; run_id: string; keys: string[]; rejected_at: string; rejected_by: string }>(db,
    `select u.email, r.user_id, r.run_id, r.keys, r.rejected_at, r.rejected_by from removal_rejections r join users u on u.id = r.user_id
     where r.account_id = ? order by lower(u.email)`, [accountId]);
  return rows;
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
    const since = new Date();
    const saved = await saveRules(db, id, documentOf(req), actorOf(req));
    // reconciled now, so the answer says what the new rules did: warnings, and whether removals are held
    let result: ReconcileResult;
    try {
      result = await reconcileAccount(db, id, { trigger: "rules change", actor: actorOf(req) });
    } catch (error) {
      // the rules are stored; the worker retries the reconcile (its request stays pending)
      return res.json({ version: saved.version, rules: saved.rules.rules.length, warnings: [], run: { runId: null, status: "failed", error: String((error as Error).message ?? error).slice(0, 500) } });
    }
    if (result.status === "nothing-to-do") {
      // the worker may have answered the rules change first: report its run
      const { rows: [byWorker] } = await runSql<{ id: string; status: string; message: string | null }>(db,
        `select id, status, plan->>'message' as message from sync_runs where account_id = ? and kind = 'reconcile' and trigger = 'rules change' and started_at >= ?
         order by started_at desc limit 1`, [id, since]);
      if (byWorker) result = { ...result, runId: byWorker.id, status: byWorker.status === "held" ? "held" : "succeeded", brake: result.brake && { ...result.brake, message: byWorker.message } };
    }
    res.json({ version: saved.version, rules: saved.rules.rules.length, warnings: result.plan.warnings,
      run: { runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld, ...brakeSummary(result) } });
  });
  router.get("/accounts/:slug/rules", async (req, res) => {
    const stored = await getRulesDocument(db, (await account(req)).id);
    if (!stored) throw new NotFoundError("this account has no rules yet: nothing is granted until `idsync rules set`");
    res.json(stored);
  });

  router.get("/accounts/:slug/plan", async (req, res) => {
    const { id } = await account(req);
    const result = await reconcileAccount(db, id, { trigger: "dry-run", dryRun: true });
    res.json({ actions: result.plan.actions, rows: planRows(result, await planNames(db, id)), manualMembers: result.plan.manualMembers, warnings: result.plan.warnings,
      brake: brakeSummary(result) });
  });
  router.post("/accounts/:slug/reconcile", async (req, res) => {
    const { id } = await account(req);
    const result = await reconcileAccount(db, id, { trigger: "operator", actor: actorOf(req) });
    res.json({ runId: result.runId, status: result.status, applied: result.applied, withheld: result.withheld, rows: planRows(result, await planNames(db, id)), brake: brakeSummary(result) });
  });

  router.get("/accounts/:slug/runs", async (req, res) => res.json({ runs: await listRuns(db, (await account(req)).id) }));
  router.get("/runs/:id", async (req, res) => {
    const run = await findRun(db, String(req.params.id));
    if (!run) throw new NotFoundError(`no run ${req.params.id}`);
    res.json({ run });
  });
  /** `{"email": …}` narrows a decision to one person. */
  const decisionScope = async (req: express.Request): Promise<DecisionScope> => {
    const email = req.body?.email;
    if (email === undefined || email === null) return {};
    if (typeof email !== "string" || !email) throw new BadRequestError("email must be the email address of the person the decision is about");
    const userId = await userIdByEmail(db, email);
    if (!userId) throw new NotFoundError(`no user ${email}`);
    return { userId, email };
  };
  const heldRun = async (req: express.Request) => {
    const run = await findRun(db, String(req.params.id));
    if (!run) throw new NotFoundError(`no run ${req.params.id}`);
    return run;
  };
  router.post("/runs/:id/approve", async (req, res) => {
    const run = await heldRun(req);
    const result = await approveHeldRun(db, run, actorOf(req), await decisionScope(req));
    const { rows: [after] } = await runSql<{ status: string }>(db, `select status from sync_runs where id = ?`, [run.id]);
    res.json({ runId: result.runId, approvedRunId: run.id, approvedRunStatus: after!.status, status: result.status, applied: result.applied,
      approved: result.brake?.approved ?? 0, stillHeld: result.brake?.heldRunId ?? null });
  });
  router.post("/runs/:id/reject", async (req, res) => {
    const run = await heldRun(req);
    const decided = await rejectHeldRun(db, run, actorOf(req), await decisionScope(req));
    const { rows: [after] } = await runSql<{ status: string }>(db, `select status from sync_runs where id = ?`, [run.id]);
    res.json({ runId: run.id, status: after!.status, ...decided });
  });
  router.get("/accounts/:slug/kept", async (req, res) => res.json({ kept: await keptPeople(db, (await account(req)).id) }));
  router.post("/accounts/:slug/kept/lift", async (req, res) => {
    const { id } = await account(req);
    res.json(await liftAccountRejections(db, id, actorOf(req), await decisionScope(req)));
  });

  router.get("/accounts/:slug/members", async (req, res) => {
    const { id } = await account(req);
    const kept = new Map((await keptPeople(db, id)).map((k) => [k.email.toLowerCase(), k]));
    const members = (await listMembers(db, id)).map((m) => {
      const k = kept.get(String(m.email).toLowerCase());
      return k ? { ...m, kept: `kept by an operator's decision (run ${k.run_id} rejected)` } : m;
    });
    res.json({ members });
  });
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
