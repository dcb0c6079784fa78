// Helper of bench/curves.ts, measures nothing itself: a log-log line chart as plain SVG text (the few shapes a cost
// curve needs do not justify a charting dependency). On log-log axes a cost that grows linearly with the users is a
// straight line of slope 1, drawn as a grey guide through the first series' first point: a curve steeper than the
// guide grows faster than the users. Each point of a series may carry a label (the ratio to its baseline).
export interface Series {
  name: string;
  color: string;
  /** Baselines are dashed. */
  dashed?: boolean;
  points: Array<{ x: number; y: number; label?: string }>;
}

/** `sizes`: every size measured for any chart; one where this chart has no point is marked "not measured". */
export interface Chart { title: string; xLabel: string; unit: "ms" | "MiB"; series: Series[]; sizes: number[] }

const W = 880, H = 430;
const PLOT = { left: 92, top: 44, right: 560, bottom: 370 };

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const round = (n: number) => Number(n.toFixed(1));

export function users(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function unitLabel(value: number, unit: Chart["unit"]): string {
  if (unit === "ms") return value >= 1000 ? `${value / 1000} s` : `${value} ms`;
  return `${value.toLocaleString("en")} MiB`;
}

/** Whole decades around the values: the grid lines (and, thinned, their labels). */
function decades(values: number[]): [number, number] {
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  return [lo, hi === lo ? hi + 1 : hi];
}

export function renderChart(chart: Chart): string {
  const all = chart.series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="80"><text x="10" y="40" font-family="sans-serif">${escape(chart.title)}: no points yet</text></svg>\n`;
  const xs = [...new Set([...chart.sizes, ...all.map((p) => p.x)])].sort((a, b) => a - b);
  const plotted = new Set(all.map((p) => p.x));
  // half a decade of room either side, so the end points and their labels are not on the frame
  const [x0, x1] = [Math.log10(xs[0]!) - 0.5, Math.log10(xs.at(-1)!) + 0.5];
  const [y0, y1] = decades(all.map((p) => p.y));
  const px = (x: number) => round(PLOT.left + ((Math.log10(x) - x0) / (x1 - x0)) * (PLOT.right - PLOT.left));
  const py = (y: number) => round(PLOT.bottom - ((Math.log10(y) - y0) / (y1 - y0)) * (PLOT.bottom - PLOT.top));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PLOT.left}" y="24" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#999"/>`,
  ];
  for (let d = y0; d <= y1; d++) {
    const value = 10 ** d;
    out.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${py(value)}" y2="${py(value)}" stroke="#e3e3e3"/>`,
      `<text x="${PLOT.left - 6}" y="${py(value) + 4}" text-anchor="end">${escape(unitLabel(value, chart.unit))}</text>`);
    for (const m of [2, 5]) if (d < y1) out.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${py(m * value)}" y2="${py(m * value)}" stroke="#f3f3f3"/>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#e3e3e3"/>`,
      `<text x="${px(x)}" y="${PLOT.bottom + 18}" text-anchor="middle">${users(x)}</text>`);
    if (!plotted.has(x)) out.push(`<text x="${px(x)}" y="${PLOT.bottom - 10}" text-anchor="middle" fill="#888">not measured</text>`);
  }
  out.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 40}" text-anchor="middle">${escape(chart.xLabel)} (log scale)</text>`,
    `<text transform="translate(16 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">${chart.unit === "ms" ? "time" : "memory"} (log scale)</text>`);
  const anchor = chart.series.find((s) => s.points.length)?.points[0];
  if (anchor && plotted.size > 1) {
    // the slope-1 guide: cost ∝ users, clipped to the plot
    const [from, to] = [Math.min(...plotted), Math.max(...plotted)];
    const at = (x: number) => anchor.y * (x / anchor.x);
    out.push(`<line x1="${px(from)}" y1="${py(at(from))}" x2="${px(to)}" y2="${py(at(to))}" stroke="#bbb" stroke-width="1" stroke-dasharray="2 3" clip-path="url(#plot)"/>`);
  }
  out.push(`<clipPath id="plot"><rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}"/></clipPath>`);
  const labels: Array<{ x: number; y: number; text: string; color: string }> = [];
  for (const s of chart.series) {
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0).sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(" ")}"/>`);
    for (const p of pts) {
      out.push(s.dashed
        ? `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3" fill="white" stroke="${s.color}" stroke-width="1.5"/>`
        : `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="4" fill="${s.color}"/>`);
      if (p.label) labels.push({ x: px(p.x) + 7, y: py(p.y) - 6, text: p.label, color: s.color });
    }
  }
  // labels at one size that would overlap are pushed down, in the order of their points
  const LINE = 14;
  for (const x of new Set(labels.map((l) => l.x))) {
    const column = labels.filter((l) => l.x === x).sort((a, b) => a.y - b.y);
    for (let i = 1; i < column.length; i++) column[i]!.y = Math.max(column[i]!.y, column[i - 1]!.y + LINE);
  }
  for (const l of labels) out.push(`<text x="${l.x}" y="${l.y}" fill="${l.color}" font-weight="bold" stroke="white" stroke-width="3" paint-order="stroke">${escape(l.text)}</text>`);
  // the legend, right of the plot, so it never covers a point
  const legendX = PLOT.right + 20;
  chart.series.forEach((s, i) => {
    const y = PLOT.top + 10 + i * 22;
    out.push(`<line x1="${legendX}" x2="${legendX + 28}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""}/>`,
      `<text x="${legendX + 36}" y="${y + 4}">${escape(s.name)}</text>`);
  });
  const guideY = PLOT.top + 10 + chart.series.length * 22;
  out.push(`<line x1="${legendX}" x2="${legendX + 28}" y1="${guideY}" y2="${guideY}" stroke="#bbb" stroke-dasharray="2 3"/>`,
    `<text x="${legendX + 36}" y="${guideY + 4}">∝ users (slope 1)</text>`,
    `<text x="${legendX}" y="${guideY + 30}" fill="#555">labels: ratio to the</text>`,
    `<text x="${legendX}" y="${guideY + 46}" fill="#555">dashed baseline</text>`,
    `</svg>`);
  return `${out.join("\n")}\n`;
}
