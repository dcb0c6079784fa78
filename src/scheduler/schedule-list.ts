// Every schedule idsync runs, for the status page and /metrics: the full reconcile of every account
// (a setting) and each pulled connection's pulls (its settings), with when each fires next and which
// replica queued its last slot.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { checkConnectionConfig } from "../sources/connection-config.ts";
import { nextRun } from "./next-run.ts";

export interface ScheduleRow {
  /** "full_reconcile", or "pull:<connection id>:<mode>" as slots are claimed. */
  readonly schedule: string;
  /** What it does, for people. */
  readonly what: string;
  readonly account: string | null;
  readonly cron: string;
  readonly nextRun: Date | null;
  readonly lastSlot: { readonly slot: Date; readonly claimedBy: string; readonly jobs: number } | null;
}

export async function listSchedules(db: Knex, fullReconcileSchedule: string): Promise<ScheduleRow[]> {
  const { rows: connections } = await runSql<{ id: string; kind: "google" | "graph"; name: string; slug: string; config: unknown }>(db,
    `select c.id, c.kind, c.name, a.slug, c.config from directory_connections c join accounts a on a.id = c.account_id
     where c.kind in ('google', 'graph') and c.status = 'active' order by a.slug, c.created_at`);
  const { rows: slots } = await runSql<{ schedule: string; slot: Date; claimed_by: string; jobs: number }>(db,
    `select distinct on (schedule) schedule, slot, claimed_by, jobs from schedule_slots where slot > now() - interval '7 days' order by schedule, slot desc`);
  const last = new Map(slots.map((s) => [s.schedule, { slot: new Date(s.slot), claimedBy: s.claimed_by, jobs: s.jobs }]));
  const rows: ScheduleRow[] = [{
    schedule: "full_reconcile", what: "full reconcile of every account", account: null, cron: fullReconcileSchedule,
    nextRun: nextRun(fullReconcileSchedule), lastSlot: last.get("full_reconcile") ?? null,
  }];
  for (const c of connections) {
    let schedule: Record<string, string | undefined>;
    try {
      schedule = checkConnectionConfig(c.kind, c.config).pull.schedule as unknown as Record<string, string | undefined>;
    } catch {
      continue; // invalid settings: not scheduled (the connection's page says why)
    }
    for (const [mode, cron] of Object.entries(schedule)) {
      if (!cron) continue;
      const name = `pull:${c.id}:${mode}`;
      rows.push({ schedule: name, what: `${mode} pull of ${c.kind} connection ${c.name}`, account: c.slug, cron, nextRun: nextRun(cron), lastSlot: last.get(name) ?? null });
    }
  }
  return rows;
}
