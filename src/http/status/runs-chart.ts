// A connection's runs as an inline SVG bar chart, oldest on the left: per run, the changes applied (blue)
// and the removals (red) against a count axis, a status strip under them, and a time axis of the runs'
// start times. One bar group per run, evenly spaced rather than placed by time: runs come in bursts
// (a SCIM push makes several within a second) and bars placed by time would hide one another; the axis
// labels say when. Every bar group has a <title> (when, status, counts, run id), and the same runs are
// a table beside it for screen readers and copying run ids. Server-rendered: no JavaScript needed.
import { html, type Markup } from "./html.ts";

export interface ChartRun {
  readonly id: string;
  readonly startedAt: Date;
  readonly status: string;
  readonly applied: number;
  readonly removals: number;
  /** Removals the brake held back. */
  readonly held: number;
  readonly durationMs: number;
}

const COLOURS = { applied: "#2f6fdf", removals: "#d9534f" };
const STATUS_COLOURS: Record<string, string> = { succeeded: "#1b7f3b", held: "#e0a100", failed: "#b00020", aborted: "#b00020", rejected: "#6b7280" };

const WIDTH = 720;
const HEIGHT = 190;
const PLOT = { left: 44, right: WIDTH - 12, top: 12, bottom: 132 };
const STRIP_Y = PLOT.bottom + 4;
const AXIS_Y = STRIP_Y + 10;

const utc = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
/** Axis labels: HH:MM, or HH:MM:SS when the runs span under ten minutes (a burst of SCIM pushes). */
const timeLabel = (d: Date, seconds: boolean) => d.toISOString().slice(11, seconds ? 19 : 16);
const day = (d: Date) => d.toISOString().slice(0, 10);

export function describeRun(r: ChartRun): string {
  const counts = `${r.applied} applied, ${r.removals} removals${r.held ? `, ${r.held} held` : ""}`;
  return `${utc(r.startedAt)} · ${r.status} · ${counts} · ${formatDuration(r.durationMs)} · run ${r.id}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A count axis top at or above the largest bar: 1, 2, 3, 4, 5, 6, 8 × 10ⁿ (halves stay whole from 10 up). */
function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, value)));
  return [1, 2, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((n) => n >= value)!;
}

/** Which runs get a time label: about one every 90 px, always the first and the last. */
function labelled(count: number, slot: number): Set<number> {
  const every = Math.max(1, Math.ceil(90 / slot));
  const picked = new Set<number>();
  for (let i = 0; i < count; i += every) picked.add(i);
  if (count > 1 && (count - 1) % every !== 0) {
    if (count - 1 - Math.max(...picked) <= every / 2) picked.delete(Math.max(...picked));
    picked.add(count - 1);
  }
  return picked;
}

export function runsChart(runs: readonly ChartRun[]): Markup {
  if (runs.length === 0) return html`<p class="muted">No runs yet.</p>`;
  const slot = (PLOT.right - PLOT.left) / runs.length;
  const bar = Math.max(1.5, Math.min(14, (slot * 0.7) / 2));
  const top = niceMax(Math.max(...runs.map((r) => Math.max(r.applied, r.removals))));
  const y = (value: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * value) / top;
  const labels = labelled(runs.length, slot);
  const oneDay = day(runs[0]!.startedAt) === day(runs.at(-1)!.startedAt);
  const seconds = runs.at(-1)!.startedAt.getTime() - runs[0]!.startedAt.getTime() < 10 * 60_000;

  const groups = runs.map((r, i) => {
    const centre = PLOT.left + slot * (i + 0.5);
    const label = labels.has(i)
      ? html`<line x1="${centre}" y1="${AXIS_Y - 6}" x2="${centre}" y2="${AXIS_Y - 2}" stroke="#9aa3b2"></line>
<text x="${centre}" y="${AXIS_Y + 9}" text-anchor="middle">${timeLabel(r.startedAt, seconds)}</text>${oneDay ? "" : html`<text x="${centre}" y="${AXIS_Y + 21}" text-anchor="middle" fill="#8a93a3">${day(r.startedAt).slice(5)}</text>`}`
      : "";
    return html`<g class="run" data-run-id="${r.id}"><title>${describeRun(r)}</title>
<rect x="${PLOT.left + slot * i}" y="${PLOT.top}" width="${slot}" height="${STRIP_Y + 6 - PLOT.top}" fill="transparent"></rect>
<rect x="${centre - bar}" y="${y(r.applied)}" width="${bar}" height="${PLOT.bottom - y(r.applied)}" fill="${COLOURS.applied}"></rect>
<rect x="${centre}" y="${y(r.removals)}" width="${bar}" height="${PLOT.bottom - y(r.removals)}" fill="${COLOURS.removals}"></rect>
<rect x="${centre - bar}" y="${STRIP_Y}" width="${2 * bar}" height="5" fill="${STATUS_COLOURS[r.status] ?? "#9aa3b2"}"></rect></g>${label}`;
  });

  const ticks = [0, top / 2, top].map((value) => html`<line x1="${PLOT.left - 4}" y1="${y(value)}" x2="${PLOT.right}" y2="${y(value)}" stroke="${value === 0 ? "#9aa3b2" : "#eef0f3"}"></line>
<text x="${PLOT.left - 7}" y="${y(value) + 4}" text-anchor="end">${Number.isInteger(value) ? value : value.toFixed(1)}</text>`);
  const span = `${utc(runs[0]!.startedAt)} to ${utc(runs.at(-1)!.startedAt)}`;
  return html`<figure class="runs-chart">
<svg role="img" aria-label="runs over time" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" style="max-width:${WIDTH}px" font-size="11" fill="#5b6473">
<desc>${runs.length} runs from ${span}: changes applied and removals per run; hover a bar for its time, status, counts and run id.</desc>
${ticks}
<text x="12" y="${(PLOT.top + PLOT.bottom) / 2}" transform="rotate(-90 12 ${(PLOT.top + PLOT.bottom) / 2})" text-anchor="middle">changes</text>
${groups}
<text x="${PLOT.right}" y="${HEIGHT - 2}" text-anchor="end">run start (UTC${oneDay ? `, ${day(runs[0]!.startedAt)}` : ""})</text>
</svg>
<figcaption class="legend muted"><span><i class="swatch" style="background:${COLOURS.applied}"></i>changes applied</span>
<span><i class="swatch" style="background:${COLOURS.removals}"></i>removals</span>
<span>status: ${Object.entries(STATUS_COLOURS).filter(([s]) => s !== "aborted").map(([status, colour]) => html`<i class="swatch" style="background:${colour}"></i>${status} `)}</span></figcaption>
<details><summary>These ${runs.length} runs as a table</summary>
<table class="runs-table"><tr><th>started</th><th>status</th><th>applied</th><th>removals</th><th>held</th><th>duration</th><th>run</th></tr>
${[...runs].reverse().map((r) => html`<tr><td>${utc(r.startedAt)}</td><td class="${r.status}">${r.status}</td><td>${r.applied}</td><td>${r.removals}</td><td>${r.held}</td>
<td>${formatDuration(r.durationMs)}</td><td><code>${r.id}</code></td></tr>`)}</table></details></figure>`;
}
