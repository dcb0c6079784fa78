// A connection's runs over time as an inline SVG: one bar group per run (changes applied, removals held
// or made, duration), oldest on the left. Server-rendered, so it needs no JavaScript to read.
import { html, type Markup } from "./html.ts";

export interface ChartRun {
  readonly startedAt: Date;
  readonly status: string;
  readonly applied: number;
  readonly removals: number;
  readonly durationMs: number;
}

const COLOURS = { applied: "#2f6fdf", removals: "#d9534f", duration: "#9aa3b2" };

export function runsChart(runs: readonly ChartRun[]): Markup {
  if (runs.length === 0) return html`<p class="muted">No runs yet.</p>`;
  const width = 640;
  const height = 120;
  const slot = width / runs.length;
  const bar = Math.max(2, slot / 4);
  const maxCount = Math.max(1, ...runs.map((r) => Math.max(r.applied, r.removals)));
  const maxDuration = Math.max(1, ...runs.map((r) => r.durationMs));
  const scaled = (value: number, max: number) => Math.round((value / max) * (height - 10));
  const bars = runs.map((r, i) => {
    const x = Math.round(i * slot + slot / 8);
    const title = `${r.startedAt.toISOString()} ${r.status}: ${r.applied} applied, ${r.removals} removals, ${r.durationMs} ms`;
    return html`<g><title>${title}</title>
<rect x="${x}" y="${height - scaled(r.applied, maxCount)}" width="${bar}" height="${scaled(r.applied, maxCount)}" fill="${COLOURS.applied}"></rect>
<rect x="${x + bar}" y="${height - scaled(r.removals, maxCount)}" width="${bar}" height="${scaled(r.removals, maxCount)}" fill="${COLOURS.removals}"></rect>
<rect x="${x + 2 * bar}" y="${height - scaled(r.durationMs, maxDuration)}" width="${bar}" height="${scaled(r.durationMs, maxDuration)}" fill="${COLOURS.duration}"></rect></g>`;
  });
  return html`<svg role="img" aria-label="runs over time" viewBox="0 0 ${width} ${height}" width="100%" height="${height}">${bars}</svg>
<p class="legend muted"><span><i class="swatch" style="background:${COLOURS.applied}"></i>changes applied (max ${maxCount})</span>
<span><i class="swatch" style="background:${COLOURS.removals}"></i>removals</span><span><i class="swatch" style="background:${COLOURS.duration}"></i>duration (max ${maxDuration} ms)</span></p>`;
}
