// Benchmark plumbing, measures nothing itself: free ports and the two servers (idsync and the bare
// baseline) as child processes. Child output goes to a temporary file rather than a pipe, so a busy
// load generator can never stall a server's logging (and with it its throughput); the file's last
// lines explain a child that dies. Children are stopped at the end, on error and on SIGINT.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Where its output goes (removed by stopAllChildren). */
  readonly logFile: string;
  /** The last lines the child wrote (stdout and stderr together). */
  tail(lines?: number): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after 5 s (to the process group, for a child started with `group`). */
  stop(): Promise<void>;
  /** SIGKILL now, synchronously (process 'exit'). */
  kill(): void;
}

const children = new Set<Child>();
let logDir: string | undefined;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Signals the child, or with `group` its whole process group (false: nothing of it is left to signal). */
function signalChild(proc: ChildProcess, group: boolean, sig: NodeJS.Signals | 0): boolean {
  try {
    if (group) process.kill(-proc.pid!, sig);
    else proc.kill(sig === 0 ? undefined : sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `command args…` in `cwd` with the environment plus `env`; output goes to a temp file. With `group`, the
 * child leads a process group of its own and stop() ends the group: for `npm start`, whose npm exits on SIGTERM
 * without waiting for the node process it started (which would keep its port and its data directory).
 */
export function startChild(name: string, command: string, args: string[], env: Record<string, string>, cwd: string, { group = false } = {}): Child {
  logDir ??= mkdtempSync(path.join(tmpdir(), "idsync-bench-"));
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, "w");
  const proc = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd], detached: group });
  closeSync(fd);
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => proc.once("exit", (code, signal) => {
    exitInfo = signal ? `signal ${signal}` : `code ${code}`;
    resolve();
  }));
  proc.once("error", (error) => {
    exitInfo ??= `spawn error: ${error.message}`;
  });
  const child: Child = {
    name,
    process: proc,
    logFile,
    tail(lines = 30) {
      let text = "";
      try {
        text = readFileSync(logFile, "utf8");
      } catch { /* nothing written yet */ }
      return text.trimEnd().split("\n").slice(-lines).join("\n");
    },
    exited: () => exitInfo !== undefined,
    kill() {
      if (group || exitInfo === undefined) signalChild(proc, group, "SIGKILL");
    },
    async stop() {
      children.delete(child);
      if (exitInfo === undefined) {
        signalChild(proc, group, "SIGTERM");
        const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
        if (!stopped) {
          signalChild(proc, group, "SIGKILL");
          await exited;
        }
      }
      // the group's other processes may outlive its leader: wait (5 s at most) until none is left
      for (let i = 0; group && i < 500 && signalChild(proc, true, 0); i++) await new Promise((r) => setTimeout(r, 10));
    },
  };
  children.add(child);
  return child;
}

/** Why a child is gone, with its last lines of output. */
export function describeDeath(child: Child): string {
  return `${child.name} (pid ${child.process.pid}) ${child.exited() ? "exited" : "is unhealthy"}; its last output:\n${child.tail()}`;
}

/** Stops every child still running (gracefully, then by force) and removes their output files. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  logDir = undefined;
}

/** For process 'exit': synchronous, so it can only SIGKILL what is left. */
export function killAllChildrenNow(): void {
  for (const child of children) child.kill();
  children.clear();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  logDir = undefined;
}

/** Polls `url` until it answers 200; fails early, with the child's last lines, if the child exits. */
export async function waitHealthy(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited()) throw new Error(describeDeath(child));
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not answer ${url} with 200 within ${timeoutMs / 1000} s; ${describeDeath(child)}`);
}
