// `npm run bench` (last part; alone: `npm run bench:curves`): the cost curves of issue 15 item 6, time and memory
// against the number of users, with the ratio to each figure's baseline at every point:
//   1. runs the reconcile bench (bench/reconcile-bench.ts) and the pull bench (bench/pull-bench.ts) as child processes
//      at each size of BENCH_CURVE_SIZES (users); the reconcile bench scales groups (users ÷ 20) and memberships
//      (users × 5) itself, the pull bench is given users ÷ 10 groups, users × 10 memberships and users ÷ 50 deleted
//      users (the proportions of its defaults), without its Graph part and its in-memory fullPull (neither is on a
//      curve); children wait for the bench lock (bench/bench-db.ts) rather than fail on someone else's bench
//   2. keeps, per size, the plan, first apply and no-op times of the reconcile with their baselines (bare read, COPY,
//      bare read) and its peak RSS; the streaming pull's read + staging with its baseline (bare fetch), its apply
//      transaction and its RSS and heap growth; in bench/results/curves.json, merged with the sizes measured before
//      (so a 1M point measured once stays when the default sizes are run again; a size re-run replaces its point)
//   3. for each two sizes 10× apart: growth = figure(10n) ÷ figure(n), PASS when ≤ 12 (the near-linear rule)
//   4. prints the points and the growth, draws docs/curves/*.svg (bench/curve-chart.ts) and rewrites the section of
//      docs/performance.md between <!-- curves:start --> and <!-- curves:end --> (bench/curve-doc.ts)
// Settings: BENCH_CURVE_SIZES (default 10000,100000; at 1000000 the reconcile bench takes about 10 minutes and the
// pull bench about 5, see docs/performance.md; empty: run nothing, redraw from curves.json), BENCH_CURVE_BENCHES
// (reconcile,pulls), BENCH_CURVE_DEADLINE (an ISO time: a child still running
// then is stopped and its point recorded as not measured), BENCH_CURVE_HEAP_MIB (--max-old-space-size for the children
// above 100,000 users; default 16384: Node's own limit here is about 4 GiB, see docs/performance.md). Exits 1 when a
// child bench failed.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchEnv, runBench, stopRunningChild } from "./curve-child.ts";
import { growthOf, pullPoint, reconcilePoint, type BenchName, type SizePoints } from "./curve-points.ts";
import { printCurves, writeCurveDocs } from "./curve-doc.ts";
import { machineInfo, writeResults } from "./report.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = path.join(ROOT, "bench", "results", "curves.json");
const SIZES_RAW = process.env.BENCH_CURVE_SIZES ?? "10000,100000";
const SIZES = SIZES_RAW.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
const BENCHES = (process.env.BENCH_CURVE_BENCHES || "reconcile,pulls").split(",").map((s) => s.trim()) as BenchName[];
const DEADLINE = process.env.BENCH_CURVE_DEADLINE ? Date.parse(process.env.BENCH_CURVE_DEADLINE) : null;
const HEAP_MIB = Number(process.env.BENCH_CURVE_HEAP_MIB || 16_384);
const log = (line: string) => process.stdout.write(`${line}\n`);
let interrupted = false;

function command(): string {
  const knobs = ["BENCH_CURVE_SIZES", "BENCH_CURVE_BENCHES", "BENCH_CURVE_DEADLINE", "BENCH_CURVE_HEAP_MIB"]
    .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return [...knobs, "npm run bench:curves"].join(" ");
}

function childEnv(bench: BenchName, users: number): Record<string, string> {
  const env = benchEnv(bench, users);
  // at 1M users the reconcile bench holds the account in its heap, and the Google fake the directory, beyond the
  // ~4 GiB V8 allows by default; the smaller sizes run as `npm run bench:*` does
  if (users > 100_000) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=${HEAP_MIB}`.trim();
  return env;
}

async function main(): Promise<number> {
  if (SIZES.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`BENCH_CURVE_SIZES must list user counts: ${SIZES_RAW}`);
  if (DEADLINE !== null && Number.isNaN(DEADLINE)) throw new Error(`BENCH_CURVE_DEADLINE is no time: ${process.env.BENCH_CURVE_DEADLINE}`);
  const stored = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { points: Record<string, SizePoints> }) : { points: {} };
  const points = stored.points;
  const save = () => writeResults(RESULTS, { machine: machineInfo(), points, growth: growthOf(points) });
  let failed = 0;
  for (const users of SIZES) {
    for (const bench of BENCHES) {
      if (interrupted) break;
      log(`\n== cost curves: ${bench} bench at ${users.toLocaleString("en")} users ==`);
      const run = await runBench(ROOT, bench, users, childEnv(bench, users), DEADLINE);
      const at = (points[users] ??= {});
      if (run.json) {
        if (bench === "reconcile") at.reconcile = reconcilePoint(run.json, command());
        else at.pulls = pullPoint(run.json, command());
        if (at.notMeasured) delete at.notMeasured[bench];
        if (at.notMeasured && Object.keys(at.notMeasured).length === 0) delete at.notMeasured;
      } else {
        failed++;
        log(`${bench} at ${users} users: ${run.failure}`);
        // a point measured before stays: a failed re-run says nothing against it
        if (!at[bench]) (at.notMeasured ??= {})[bench] = run.failure!;
      }
      save(); // after every run: a stopped curves.ts keeps what it measured
    }
  }
  save();
  printCurves(points, growthOf(points));
  writeCurveDocs(ROOT, points, growthOf(points));
  log(`\nresults written to bench/results/curves.json; charts to docs/curves/; docs/performance.md's curves section rewritten`);
  return failed ? 1 : 0;
}

process.once("SIGINT", () => { interrupted = true; stopRunningChild("SIGINT"); process.exitCode = 130; });
main().then((code) => { process.exitCode ||= code; }, (error: Error) => {
  log(`cost curves failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
