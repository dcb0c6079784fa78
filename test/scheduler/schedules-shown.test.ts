// Every schedule is configuration and shows where operators look: the full reconcile's cron comes from
// IDSYNC_FULL_RECONCILE_SCHEDULE, each pulled connection's from its settings; both are on the status
// page (with the replica that queued the last slot) and in /metrics.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";
import { createPulledConnection } from "../../src/accounts/connections.ts";
import { claimSlot } from "../../src/scheduler/schedule-slots.ts";

let harness: ScimHarness;
let connectionId: string;
beforeAll(async () => {
  harness = await startScimHarness({ env: { IDSYNC_FULL_RECONCILE_SCHEDULE: "*/7 * * * *" } });
  await harness.tenant("scheduled");
  connectionId = (await createPulledConnection(harness.db.knex, "scheduled", "google", "Workspace",
    { customerId: "my_customer", subject: "admin@scheduled.example.com", credentials: { keyEnv: "GOOGLE_SA_KEY" }, schedule: { full: "15 3 * * *", departures: "*/5 * * * *" } }, "test")).id;
  await claimSlot(harness.db.knex, "full_reconcile", new Date("2026-12-02T10:07:00Z"), "replica-b", async () => 3);
});
afterAll(() => harness.close());

test("the status page lists the full reconcile and each pull with its cron, next run and last slot", async () => {
  const page = await (await fetch(`${harness.url}/`, { headers: { cookie: `idsync_session=${harness.adminToken}` } })).text();
  const section = page.slice(page.indexOf("<h2>Schedules</h2>"));
  expect(section).toContain("full reconcile of every account");
  expect(section).toContain("<code>*/7 * * * *</code>");
  expect(section).toContain("by replica-b, 3 job(s)");
  // a next run is shown for every schedule (a date, not "—")
  expect(section.match(/<tr><td>[^<]*(?:full reconcile|pull of)[\s\S]*?<\/tr>/g)?.every((row) => /<td>(?:<[^>]+>)?\d{4}-\d\d-\d\d/.test(row.split("</code></td>")[1] ?? ""))).toBe(true);
  expect(section).toContain("full pull of google connection Workspace");
  expect(section).toContain("<code>15 3 * * *</code>");
  expect(section).toContain("departures pull of google connection Workspace");
  expect(section).toContain("<code>*/5 * * * *</code>");
});

test("/metrics carries each schedule's next run and last queued slot", async () => {
  const metrics = await (await fetch(`${harness.url}/metrics`)).text();
  const next = (schedule: string, cron: string) => Number(new RegExp(`^idsync_schedule_next_run_timestamp_seconds\\{schedule="${schedule}",cron="${cron.replaceAll("*", "\\*")}"\\} (\\d+)`, "m").exec(metrics)?.[1]);
  const now = Date.now() / 1000;
  expect(next("full_reconcile", "*/7 * * * *")).toBeGreaterThan(now);
  expect(next("full_reconcile", "*/7 * * * *")).toBeLessThanOrEqual(now + 7 * 60);
  expect(next(`pull:${connectionId}:full`, "15 3 * * *")).toBeLessThanOrEqual(now + 24 * 3600);
  expect(next(`pull:${connectionId}:departures`, "*/5 * * * *")).toBeLessThanOrEqual(now + 5 * 60);
  expect(metrics).toContain(`idsync_schedule_last_slot_timestamp_seconds{schedule="full_reconcile",cron="*/7 * * * *"} ${Date.parse("2026-12-02T10:07:00Z") / 1000}`);
});
