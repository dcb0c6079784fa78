// Helper of bench/curves.ts, measures nothing itself: the figures a cost curve keeps from one run of the reconcile
// bench (bench/results/reconcile.json) or the pull bench (bench/results/pulls.json) at one size, and the growth
// between two sizes 10× apart. The rule: 10× the users may cost at most 12× the time and memory.
export const MAX_GROWTH = 12;

interface Measured {
  /** When the child bench wrote its JSON, and the load average then: other work on the machine moves the figures. */
  measuredAt: string;
  loadAverage: number[];
  size: Record<string, number>;
  /** The command that measured it (a point stays in curves.json until its size is run again). */
  command: string;
}

export interface ReconcilePoint extends Measured {
  planMs: number; readMs: number;
  applyMs: number; writeMs: number;
  noopMs: number; readAgainMs: number;
  /** Of the bench process, which plans and applies in process; absent from a reconcile.json older than curves.ts. */
  peakRssMiB: number; peakHeapMiB: number;
}

export interface PullPoint extends Measured {
  /** The streaming pull into an empty snapshot: read + staging, against the bare fetch of the same pages. */
  stagingMs: number; bareMs: number;
  transactionMs: number;
  rssGrowthMiB: number;
  heapGrowthMiB: number; bareHeapGrowthMiB: number;
  calls: number;
}

export type BenchName = "reconcile" | "pulls";

/** What curves.json keeps per size; `notMeasured` says why a bench has no point there (killed at the deadline, failed). */
export interface SizePoints { reconcile?: ReconcilePoint; pulls?: PullPoint; notMeasured?: Partial<Record<BenchName, string>> }

// the benches' own JSON, read back: its shape is theirs (bench/reconcile-bench.ts, bench/pull-bench.ts)
type Json = Record<string, any>;

const measured = (json: Json, size: Json, command: string): Measured => ({ measuredAt: json.machine.date, loadAverage: json.machine.loadAverage, size, command });

export function reconcilePoint(json: Json, command: string): ReconcilePoint {
  return { ...measured(json, json.size, command), planMs: json.planMs, readMs: json.readMs, applyMs: json.applyMs, writeMs: json.writeMs,
    noopMs: json.noopMs, readAgainMs: json.readAgainMs, peakRssMiB: json.peakRssMiB ?? NaN, peakHeapMiB: json.peakHeapMiB ?? NaN };
}

export function pullPoint(json: Json, command: string): PullPoint {
  const google = json.google;
  const first = google.streaming.first;
  return { ...measured(json, google.size, command), stagingMs: first.stagingMs, bareMs: google.bare.wallMs, transactionMs: first.transactionMs,
    rssGrowthMiB: first.rssGrowthMiB, heapGrowthMiB: first.heapGrowthMiB, bareHeapGrowthMiB: google.bare.heapGrowthMiB, calls: google.calls };
}

/** One figure of a curve: how to read it from a point, its unit, and its baseline's, if it has one. */
export interface Figure {
  key: string; label: string; bench: BenchName; kind: "time" | "memory";
  value(p: SizePoints): number | undefined;
  baseline?: { label: string; value(p: SizePoints): number | undefined };
}

const r = (f: (p: ReconcilePoint) => number) => (p: SizePoints) => (p.reconcile ? f(p.reconcile) : undefined);
const g = (f: (p: PullPoint) => number) => (p: SizePoints) => (p.pulls ? f(p.pulls) : undefined);

export const FIGURES: Figure[] = [
  { key: "plan", label: "reconcile plan", bench: "reconcile", kind: "time", value: r((p) => p.planMs), baseline: { label: "bare read", value: r((p) => p.readMs) } },
  { key: "apply", label: "first apply", bench: "reconcile", kind: "time", value: r((p) => p.applyMs), baseline: { label: "COPY", value: r((p) => p.writeMs) } },
  { key: "noop", label: "no-op reconcile", bench: "reconcile", kind: "time", value: r((p) => p.noopMs), baseline: { label: "bare read after the apply", value: r((p) => p.readAgainMs) } },
  { key: "pull", label: "pull read + staging", bench: "pulls", kind: "time", value: g((p) => p.stagingMs), baseline: { label: "bare fetch", value: g((p) => p.bareMs) } },
  { key: "pullApply", label: "pull apply transaction", bench: "pulls", kind: "time", value: g((p) => p.transactionMs) },
  { key: "reconcileRss", label: "reconcile peak RSS", bench: "reconcile", kind: "memory", value: r((p) => p.peakRssMiB) },
  { key: "pullRss", label: "pull RSS growth", bench: "pulls", kind: "memory", value: g((p) => p.rssGrowthMiB) },
  { key: "pullHeap", label: "pull heap growth", bench: "pulls", kind: "memory", value: g((p) => p.heapGrowthMiB),
    baseline: { label: "bare fetch heap", value: g((p) => p.bareHeapGrowthMiB) } },
];

export interface Growth {
  from: number; to: number; figure: string; label: string; kind: "time" | "memory";
  growth: number; baselineGrowth: number | null; pass: boolean;
}

const usable = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n > 0;

/** Growth of every figure between each pair of measured sizes 10× apart. */
export function growthOf(points: Record<string, SizePoints>): Growth[] {
  const sizes = Object.keys(points).map(Number).sort((a, b) => a - b);
  const out: Growth[] = [];
  for (const from of sizes) {
    const to = from * 10;
    if (!points[to]) continue;
    const [a, b] = [points[from]!, points[to]!];
    for (const f of FIGURES) {
      const [va, vb] = [f.value(a), f.value(b)];
      if (!usable(va) || !usable(vb)) continue;
      const [ba, bb] = [f.baseline?.value(a), f.baseline?.value(b)];
      const growth = vb / va;
      out.push({ from, to, figure: f.key, label: f.label, kind: f.kind, growth,
        baselineGrowth: usable(ba) && usable(bb) ? bb / ba : null, pass: growth <= MAX_GROWTH });
    }
  }
  return out;
}
