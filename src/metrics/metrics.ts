// What idsync exposes to Prometheus at /metrics: SCIM traffic, reconcile actions, runs, directory API
// calls and throttles, and two gauges read from the database when scraped (held runs, open alerts).
// Counters are per process, as Prometheus expects; every replica is scraped on its own.
import client from "prom-client";
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const scimRequests = new client.Histogram({
  name: "idsync_scim_request_duration_seconds", help: "SCIM requests by route, method and status, with their latency",
  labelNames: ["method", "route", "status"] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
});

export const reconcileActions = new client.Counter({
  name: "idsync_reconcile_actions_total", help: "Plan actions applied, by type", labelNames: ["type"] as const, registers: [registry],
});

export const runsFinished = new client.Counter({
  name: "idsync_runs_total", help: "Reconciles and pulls by kind and result", labelNames: ["kind", "status"] as const, registers: [registry],
});

export const directoryCalls = new client.Counter({
  name: "idsync_directory_api_calls_total", help: "Google and Graph API requests, retries included", labelNames: ["connection", "kind"] as const, registers: [registry],
});

export const directoryThrottles = new client.Counter({
  name: "idsync_directory_throttles_total", help: "429s and throttling signals from Google or Graph", labelNames: ["connection", "kind"] as const, registers: [registry],
});

/** A committed reconcile run: its result and the actions it applied, by type. */
export function countReconcileRun(status: string, appliedByType: Readonly<Record<string, number>>): void {
  runsFinished.inc({ kind: "reconcile", status });
  for (const [type, n] of Object.entries(appliedByType)) reconcileActions.inc({ type }, n);
}

let database: Knex | undefined;

/** The database the gauges are read from (the serving app's). */
export function measureDatabase(db: Knex): void {
  database = db;
}

new client.Gauge({
  name: "idsync_held_runs", help: "Runs held by the removal brake, waiting for approval", registers: [registry],
  async collect() {
    if (!database) return;
    const { rows: [row] } = await runSql<{ n: number }>(database, `select count(*)::int as n from sync_runs where status = 'held'`);
    this.set(row?.n ?? 0);
  },
});

new client.Gauge({
  name: "idsync_open_alerts", help: "Open alerts by kind (owner departed, conflicts, held runs…)", labelNames: ["kind"] as const, registers: [registry],
  async collect() {
    if (!database) return;
    const { rows } = await runSql<{ kind: string; n: number }>(database, `select kind, count(*)::int as n from alerts where resolved_at is null group by kind`);
    this.reset();
    for (const { kind, n } of rows) this.set({ kind }, n);
  },
});

/** A schedule as /metrics shows it (the serving app says how to read them). */
export interface MeasuredSchedule {
  readonly schedule: string;
  readonly cron: string;
  readonly nextRun: Date | null;
  readonly lastSlot: { readonly slot: Date } | null;
}

let schedules: (() => Promise<readonly MeasuredSchedule[]>) | undefined;

export function measureSchedules(read: () => Promise<readonly MeasuredSchedule[]>): void {
  schedules = read;
}

new client.Gauge({
  name: "idsync_schedule_next_run_timestamp_seconds", help: "When each schedule (full reconcile, each connection's pulls) fires next, in seconds since the epoch (UTC)",
  labelNames: ["schedule", "cron"] as const, registers: [registry],
  async collect() {
    if (!schedules) return;
    this.reset();
    for (const row of await schedules()) if (row.nextRun) this.set({ schedule: row.schedule, cron: row.cron }, row.nextRun.getTime() / 1000);
  },
});
new client.Gauge({
  name: "idsync_schedule_last_slot_timestamp_seconds", help: "The last slot of each schedule that a replica queued, in seconds since the epoch",
  labelNames: ["schedule", "cron"] as const, registers: [registry],
  async collect() {
    if (!schedules) return;
    this.reset();
    for (const row of await schedules()) if (row.lastSlot) this.set({ schedule: row.schedule, cron: row.cron }, row.lastSlot.slot.getTime() / 1000);
  },
});

/** A SCIM path as a bounded label: resource ids become `:id`. */
export function scimRouteLabel(path: string): string {
  const match = /^\/(Users|Groups|Roles|Entitlements)(\/[^/]+)?\/?$/.exec(path);
  if (match) return match[2] ? (match[2] === "/.search" ? `/${match[1]}/.search` : `/${match[1]}/:id`) : `/${match[1]}`;
  const first = /^\/(ServiceProviderConfig|ResourceTypes|Schemas|Bulk|Me|\.search)\b/.exec(path);
  return first ? `/${first[1]}` : "other";
}
