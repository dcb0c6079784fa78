// What the status page shows, read from the database: per account its connections with their last and
// next run, held runs and what they withhold, open alerts, recent audit, and each connection's runs.
import type { Knex } from "knex";
import { runSql } from "../../db/run-sql.ts";
import { checkConnectionConfig } from "../../sources/connection-config.ts";
import { nextRun } from "../../scheduler/next-run.ts";
import type { PlanAction } from "../../reconcile/plan.ts";
import { describePlan, type PlanRow } from "../../reconcile/describe-plan.ts";
import { listAudit, planNames } from "../../accounts/membership-views.ts";
import type { ChartRun } from "./runs-chart.ts";
import { listWebhookEndpoints } from "../../webhooks/webhook-endpoints.ts";
import { CONNECTION_STATUS_SQL } from "../../accounts/connections.ts";

export interface ConnectionStatus {
  id: string;
  kind: string;
  name: string;
  /** active, disabled, or revoked (a SCIM connection without a working token). */
  status: string;
  lastRun: { status: string; startedAt: Date; error: string | null } | null;
  nextRun: Date | null;
  runs: ChartRun[];
}

export interface HeldRun {
  id: string;
  status: "held" | "superseded";
  startedAt: Date;
  heldAt: Date;
  /** Why it is held: the brake's numbers (this run, the window, the limit). */
  message: string;
  supersededBy: string | null;
  counts: Record<string, number>;
  /** The removals it showed that are still undecided. */
  withheld: PlanRow[];
}

export interface KeptAccess {
  email: string;
  runId: string | null;
  removals: number;
  rejectedAt: Date;
  rejectedBy: string;
}

export async function accountsOverview(db: Knex) {
  const { rows } = await runSql(db, `
    select a.slug, a.name,
      (select count(*)::int from memberships m where m.account_id = a.id and m.status = 'active') as members,
      (select count(*)::int from sync_runs r where r.account_id = a.id and r.status in ('held', 'superseded')) as held,
      (select count(*)::int from alerts x where x.account_id = a.id and x.resolved_at is null) as alerts
    from accounts a order by a.slug`);
  return rows as Array<{ slug: string; name: string; members: number; held: number; alerts: number }>;
}

/** Runs of a connection (pulls) or, for SCIM, the account's reconciles, which apply what SCIM pushed. */
async function connectionRuns(db: Knex, accountId: string, connection: { id: string; kind: string }) {
  const { rows } = await runSql(db, connection.kind === "scim"
    ? `select id, status, started_at, finished_at, counts, error, duration_ms from sync_runs
       where account_id = ? and kind = 'reconcile' order by started_at desc limit 40`
    : `select id, status, started_at, finished_at, counts, error, duration_ms from sync_runs where account_id = ? and connection_id = ? order by started_at desc limit 40`,
  connection.kind === "scim" ? [accountId] : [accountId, connection.id]);
  return rows.reverse().map((r) => ({
    id: r.id as string, status: r.status as string, startedAt: new Date(r.started_at), error: r.error as string | null,
    applied: Number(r.counts?.applied ?? 0), removals: Number(r.counts?.removals ?? r.counts?.withheld ?? 0), held: Number(r.counts?.withheld ?? 0),
    durationMs: r.duration_ms ?? (r.finished_at ? new Date(r.finished_at).getTime() - new Date(r.started_at).getTime() : 0),
  }));
}

export async function accountStatus(db: Knex, slug: string) {
  const { rows: [account] } = await runSql<{ id: string; slug: string; name: string }>(db, `select id, slug, name from accounts where slug = ?`, [slug]);
  if (!account) return undefined;
  const { rows: connectionRows } = await runSql(db, `select c.id, c.kind, c.name, c.config, c.status, ${CONNECTION_STATUS_SQL} as shown_status from directory_connections c where c.account_id = ? order by c.created_at`, [account.id]);
  const connections: ConnectionStatus[] = [];
  for (const c of connectionRows) {
    const runs = await connectionRuns(db, account.id, c);
    const last = runs.at(-1);
    let next: Date | null = null;
    if (c.kind !== "scim" && c.status === "active") {
      try {
        const config = checkConnectionConfig(c.kind, c.config);
        const times = Object.values(config.pull.schedule).filter((e): e is string => typeof e === "string").map(nextRun).filter((d): d is Date => d !== null);
        next = times.sort((a, b) => a.getTime() - b.getTime())[0] ?? null;
      } catch {
        next = null; // invalid settings: the scheduler does not run it either
      }
    }
    connections.push({ id: c.id, kind: c.kind, name: c.name, status: c.shown_status, lastRun: last ? { status: last.status, startedAt: last.startedAt, error: last.error } : null, nextRun: next, runs });
  }
  const names = await planNames(db, account.id);
  const { rows: heldRows } = await runSql(db, `select id, status, started_at, held_at, superseded_by, counts, plan->>'message' as message,
      coalesce((select json_agg(h.action order by h.ord) from held_removals h where h.run_id = r.id and h.decision is null), '[]') as open
    from sync_runs r where account_id = ? and status in ('held', 'superseded') order by held_at desc, started_at desc`, [account.id]);
  const held: HeldRun[] = heldRows.map((r) => ({
    id: r.id, status: r.status, startedAt: new Date(r.started_at), heldAt: new Date(r.held_at ?? r.started_at), message: r.message ?? "", supersededBy: r.superseded_by,
    counts: r.counts ?? {}, withheld: describePlan({ actions: r.open as PlanAction[], manualMembers: [], warnings: [] }, names),
  }));
  const { rows: keptRows } = await runSql(db, `select u.email, k.run_id, cardinality(k.keys) as removals, k.rejected_at, k.rejected_by
    from removal_rejections k join users u on u.id = k.user_id where k.account_id = ? order by lower(u.email)`, [account.id]);
  const kept: KeptAccess[] = keptRows.map((k) => ({ email: k.email, runId: k.run_id, removals: k.removals, rejectedAt: new Date(k.rejected_at), rejectedBy: k.rejected_by }));
  const { rows: alerts } = await runSql(db, `select kind, detail, created_at from alerts where account_id = ? and resolved_at is null order by created_at desc limit 50`, [account.id]);
  const audit = await listAudit(db, account.id, 20);
  const webhooks = await listWebhookEndpoints(db, account.id);
  return { account, connections, held, kept, alerts, audit, webhooks };
}
