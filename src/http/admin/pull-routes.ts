// Admin API for pulls: run one now. The answer streams as NDJSON, one progress line after another and
// the result last, so `idsync sync` shows a long Google pull as it goes.
import express from "express";
import type { Knex } from "knex";
import { findConnection } from "../../accounts/connections.ts";
import type { PullScheduler } from "../../scheduler/pull-scheduler.ts";
import type { PullMode } from "../../scheduler/pull-run.ts";
import { BadRequestError } from "../problem.ts";
import { describePlan } from "../../reconcile/describe-plan.ts";
import { planNames } from "../../accounts/membership-views.ts";

const MODES: readonly PullMode[] = ["full", "departures", "delta"];

export function pullRoutes(db: Knex, pulls: PullScheduler): express.Router {
  const router = express.Router();
  router.post("/connections/:id/sync", async (req, res) => {
    const connection = await findConnection(db, String(req.params.id));
    if (connection.kind === "scim") throw new BadRequestError("a SCIM connection is pushed to by its IdP; only google and graph connections are pulled");
    const mode = (req.body?.mode ?? (connection.kind === "graph" ? "delta" : "full")) as PullMode;
    if (!MODES.includes(mode)) throw new BadRequestError(`mode must be one of ${MODES.join(", ")}`);
    const dryRun = req.body?.dryRun === true;
    const maxDropPercent = req.body?.maxDropPercent;
    if (maxDropPercent !== undefined && !(typeof maxDropPercent === "number" && maxDropPercent >= 0 && maxDropPercent <= 100)) {
      throw new BadRequestError("maxDropPercent must be a number from 0 to 100");
    }
    res.status(200).type("application/x-ndjson");
    const send = (line: Record<string, unknown>) => res.write(`${JSON.stringify(line)}\n`);
    const result = await pulls.runNow(connection.id, { mode, dryRun, maxDropPercent, trigger: "operator", progress: (progress) => send({ progress }) });
    const { plan, ...rest } = result;
    send({ result: plan ? { ...rest, rows: describePlan(plan, await planNames(db, connection.account_id)), warnings: plan.warnings } : rest });
    res.end();
  });
  return router;
}
