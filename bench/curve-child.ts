// Helper of bench/curves.ts, measures nothing itself: runs one bench (reconcile or pulls) at one size as a child
// process, with its output passed through, and returns the JSON it wrote. Why a child per run: each size starts in a
// fresh process (no heap, JIT or allocator state carried over from the last size), exactly as `npm run bench:*` runs.
// The child gets a process group of its own so that stopping it at the deadline also stops what it started (idsync
// servers, the Google fake).
import { spawn } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { holdBenchLock } from "./bench-db.ts";
import type { BenchName } from "./curve-points.ts";

export interface ChildRun { json?: Record<string, unknown>; failure?: string }

const SCRIPTS: Record<BenchName, { script: string; results: string }> = {
  reconcile: { script: "bench/reconcile-bench.ts", results: "reconcile.json" },
  pulls: { script: "bench/pull-bench.ts", results: "pulls.json" },
};

/** The sizes the benches' defaults relate to their users (reconcile derives its own groups and memberships). */
export function benchEnv(bench: BenchName, users: number): Record<string, string> {
  // its 200 deprovisions and 200 departures are sized for 100,000 users: at 10,000 they would take more than the removal
  // brake allows in its window (10 % of the members) and a departure would be held; they are not on a curve
  if (bench === "reconcile") return { BENCH_RECONCILE_USERS: String(users), BENCH_DEPROVISIONS: String(Math.min(200, Math.round(users / 500))) };
  return { BENCH_PULL_USERS: String(users), BENCH_PULL_GROUPS: String(Math.round(users / 10)), BENCH_PULL_MEMBERSHIPS: String(users * 10),
    BENCH_PULL_DELETED: String(Math.round(users / 50)),
    // the Graph tenant does not grow with these sizes, and the in-memory fullPull is not on the curve: both only cost time
    BENCH_PULL_SKIP_GRAPH: "1", BENCH_PULL_IN_MEMORY: "0" };
}

let running: { pid: number; stopped?: string } | undefined;
/** Stops a running child's whole group (curves.ts calls it on SIGINT; `why` becomes the run's failure). */
export function stopRunningChild(signal: NodeJS.Signals = "SIGINT", why = "stopped by hand (SIGINT)"): void {
  if (!running) return;
  running.stopped ??= why;
  try { process.kill(-running.pid, signal); } catch { /* already gone */ }
}

/**
 * Runs `bench` at `users`; past `deadline` the child is stopped (SIGINT, then SIGKILL 20 s later) and the run fails.
 * The JSON is copied to bench/results/curve-<bench>-<users>.json (ignored by git as the others are) before the next
 * run overwrites it.
 */
export async function runBench(root: string, bench: BenchName, users: number, env: Record<string, string>, deadline: number | null): Promise<ChildRun> {
  const { script, results } = SCRIPTS[bench];
  // the reconcile bench takes the bench lock itself and fails at once when someone else holds it: wait for it here
  // instead (and release it for the child); the pull bench does not take it, so it is held here for the child's run
  const release = await holdBenchLock({ waitMs: 60 * 60_000, onWait: () => process.stdout.write("waiting for another bench to finish…\n") });
  if (bench === "reconcile") await release();
  const started = new Date().toISOString();
  const child = spawn(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), script],
    { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const self: { pid: number; stopped?: string } = { pid: child.pid! };
  running = self;
  let tail = "";
  const keep = (chunk: Buffer, to: NodeJS.WriteStream) => { to.write(chunk); tail = (tail + chunk.toString()).slice(-4000); };
  child.stdout.on("data", (c: Buffer) => keep(c, process.stdout));
  child.stderr.on("data", (c: Buffer) => keep(c, process.stderr));
  const timers: NodeJS.Timeout[] = [];
  if (deadline !== null) timers.push(setTimeout(() => {
    stopRunningChild("SIGINT", `stopped at the deadline (BENCH_CURVE_DEADLINE ${new Date(deadline).toISOString()}) before it finished`);
    timers.push(setTimeout(() => stopRunningChild("SIGKILL"), 20_000));
  }, Math.max(0, deadline - Date.now())));
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  timers.forEach(clearTimeout);
  running = undefined;
  if (bench === "pulls") await release();
  // what it was doing when stopped: its last line of output
  if (self.stopped) return { failure: `${self.stopped}, during: ${tail.trim().split("\n").at(-1)?.slice(0, 200)}` };
  if (code !== 0) return { failure: `exited ${code}: ${tail.trim().split("\n").slice(-3).join(" / ")}` };
  const file = path.join(root, "bench", "results", results);
  const json = JSON.parse(readFileSync(file, "utf8")) as { machine: { date: string } };
  if (json.machine.date < started) return { failure: `${results} was not rewritten by the run` };
  copyFileSync(file, path.join(root, "bench", "results", `curve-${bench}-${users}.json`));
  return { json };
}
