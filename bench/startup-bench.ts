// `npm run bench:startup` (the last part of `npm run bench`): how long a newcomer waits. Times, from
// spawning `npm start` (the README's command, so npm's own start-up is in the figure) to the first
// 200 of a SCIM request made with the token that start printed:
//   - the first start: an empty data directory, so the embedded database is created, migrated and
//     the demo account written before the first answer (the median of RUNS, each in a fresh directory);
//   - a restart: the same directory again (the median of RUNS);
//   - the baseline, in the same run: `npm start` of a package whose start script is a bare node:http
//     server answering 200, i.e. what npm and Node cost before idsync's own work begins.
// Targets (issue 15 item 7): first start ≤ 6 s, restart ≤ 2 s, on an idle 2-core machine; it reports
// the load average, since other work on the machine lengthens both. Writes bench/results/startup.json.
// Uses the compiled dist/ as `npm start` does (built by `npm ci`; `npm run build` after a change).
// Settings: BENCH_STARTUP_RUNS (default 3). Exits 1 when a start fails.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, killAllChildrenNow, startChild, stopAllChildren, type Child } from "./processes.ts";
import { fixed, machineInfo, median, table, writeResults } from "./report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_STARTUP_RUNS || 3);
const TARGETS = { firstStartMs: 6000, restartMs: 2000 };
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Polls every 10 ms until `ready` answers; fails if the child exits first or after 60 s. */
async function waitFor(child: Child, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exited()) throw new Error(`${child.name} exited before answering:\n${child.tail(200)}`);
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer within 60 s:\n${child.tail(200)}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const answers200 = async (url: string, token?: string) => {
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  return res.status === 200;
};

/** One `npm start` of idsync in `dataDir` to the first SCIM 200; returns its time and the SCIM token it used. */
async function startIdsync(name: string, dataDir: string, knownToken?: string): Promise<{ ms: number; token: string; child: Child }> {
  const port = await freePort();
  const started = performance.now();
  const child = startChild(name, NPM, ["start"], { PORT: String(port), HOST: "127.0.0.1", IDSYNC_DATA_DIR: dataDir, LOG_LEVEL: "warn" }, ROOT, { group: true });
  let token = knownToken;
  await waitFor(child, async () => {
    // the first start prints the demo account's token once; a restart uses the one it printed
    token ??= /SCIM token:\s+(idsync_scim_\S+)/.exec(child.tail(200))?.[1];
    return token !== undefined && answers200(`http://127.0.0.1:${port}/scim/v2/Users?count=1`, token);
  });
  return { ms: performance.now() - started, token: token!, child };
}

/** `npm start` of a bare node:http server, to its first 200. */
async function startBaseline(dir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = startChild("baseline", NPM, ["start"], { PORT: String(port) }, dir, { group: true });
  await waitFor(child, () => answers200(`http://127.0.0.1:${port}/`));
  const ms = performance.now() - started;
  await child.stop();
  return ms;
}

async function main(): Promise<void> {
  log(`idsync start-up benchmark: ${RUNS} first starts, ${RUNS} restarts, ${RUNS} baselines (npm start of a bare node:http server)`);
  const scratch = mkdtempSync(path.join(tmpdir(), "idsync-startup-"));
  try {
    const baselineDir = path.join(scratch, "baseline");
    const bare = `require("node:http").createServer((req, res) => res.end("ok")).listen(Number(process.env.PORT), "127.0.0.1");\n`;
    mkdirSync(baselineDir);
    writeFileSync(path.join(baselineDir, "package.json"), JSON.stringify({ name: "bare", private: true, scripts: { start: "node server.cjs" } }));
    writeFileSync(path.join(baselineDir, "server.cjs"), bare);

    const baselines: number[] = [];
    const firsts: number[] = [];
    const restarts: number[] = [];
    let kept: { dir: string; token: string } | undefined;
    for (let run = 0; run < RUNS; run++) {
      baselines.push(await startBaseline(baselineDir));
      const dir = path.join(scratch, `data-${run}`);
      const first = await startIdsync(`idsync-first-${run}`, dir);
      firsts.push(first.ms);
      await first.child.stop();
      kept ??= { dir, token: first.token };
      log(`run ${run + 1}: baseline ${fixed(baselines.at(-1)!)} ms, first start ${fixed(first.ms)} ms`);
    }
    for (let run = 0; run < RUNS; run++) {
      const again = await startIdsync(`idsync-restart-${run}`, kept!.dir, kept!.token);
      restarts.push(again.ms);
      await again.child.stop();
      log(`restart ${run + 1}: ${fixed(again.ms)} ms`);
    }

    const baselineMs = median(baselines, (ms) => ms);
    const firstStartMs = median(firsts, (ms) => ms);
    const restartMs = median(restarts, (ms) => ms);
    log("");
    log(table(["step", "idsync", "baseline", "ratio", "target", "verdict"], [
      ["first start → first SCIM 200", `${fixed(firstStartMs)} ms`, `${fixed(baselineMs)} ms`, fixed(firstStartMs / baselineMs, 1), `≤ ${TARGETS.firstStartMs} ms`, firstStartMs <= TARGETS.firstStartMs ? "PASS" : "FAIL"],
      ["restart → first SCIM 200", `${fixed(restartMs)} ms`, `${fixed(baselineMs)} ms`, fixed(restartMs / baselineMs, 1), `≤ ${TARGETS.restartMs} ms`, restartMs <= TARGETS.restartMs ? "PASS" : "FAIL"],
    ]));
    log(`baseline: \`npm start\` of a bare node:http server to its first 200 (npm and Node's own start-up); medians of ${RUNS}`);
    writeResults(path.join(ROOT, "bench", "results", "startup.json"), {
      machine: machineInfo(), runs: RUNS,
      firstStartMs, restartMs, baselineMs, firstStartRatio: firstStartMs / baselineMs, restartRatio: restartMs / baselineMs,
      samples: { firstStartMs: firsts, restartMs: restarts, baselineMs: baselines },
      baseline: "npm start of a bare node:http server, to its first 200", targets: TARGETS,
    });
  } finally {
    await stopAllChildren();
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.once("SIGINT", () => void stopAllChildren().finally(() => process.exit(130)));
process.once("exit", () => killAllChildrenNow());
main().catch((error: Error) => {
  process.stderr.write(`startup bench failed: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
