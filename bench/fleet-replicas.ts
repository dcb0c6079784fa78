// The fleet benchmark's replicas: `idsync serve` processes on one database, each with its name and
// port, their output in files; reading the "full reconcile done" lines they log (incrementally, as
// the files grow: with request logging on they grow by megabytes); killing one and restarting it.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { freePort, startChild, waitHealthy, type Child } from "./processes.ts";
import type { FullReconcileDone } from "./fleet-slots.ts";

export interface ReplicaSettings {
  readonly root: string;
  readonly databaseUrl: string;
  readonly adminToken: string;
  readonly fullReconcileSchedule: string;
  readonly rateLimit: { readonly ratePerSecond: number; readonly burst: number };
}

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  child: Child;
  /** Every process this replica has been (a restart is a new one), for reading all their lines. */
  readonly children: Child[];
}

function replicaEnv(settings: ReplicaSettings, name: string, port: number): Record<string, string> {
  return {
    DATABASE_URL: settings.databaseUrl, PORT: String(port), HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: settings.adminToken,
    IDSYNC_DEMO: "false", LOG_LEVEL: "info", IDSYNC_REPLICA_NAME: name,
    IDSYNC_FULL_RECONCILE_SCHEDULE: settings.fullReconcileSchedule,
    IDSYNC_SCIM_RATE_LIMIT: String(settings.rateLimit.ratePerSecond), IDSYNC_SCIM_RATE_BURST: String(settings.rateLimit.burst),
    // a production server refuses to print a first token and behaves as deployed; the bench is neither
    NODE_ENV: process.env.NODE_ENV === "production" ? "" : (process.env.NODE_ENV ?? ""),
  };
}

function spawnReplica(settings: ReplicaSettings, name: string, port: number, generation: number): Child {
  return startChild(generation === 0 ? name : `${name}-restart${generation}`, process.execPath, ["bin/idsync.js", "serve"], replicaEnv(settings, name, port), settings.root);
}

export async function startReplicas(settings: ReplicaSettings, names: readonly string[]): Promise<Replica[]> {
  const replicas: Replica[] = [];
  for (const name of names) {
    const port = await freePort();
    const child = spawnReplica(settings, name, port, 0);
    replicas.push({ name, port, url: `http://127.0.0.1:${port}`, child, children: [child] });
  }
  await Promise.all(replicas.map((r) => waitHealthy(r.child, `${r.url}/healthz`)));
  return replicas;
}

/** SIGKILL (no graceful stop: a crash mid-job), then the same replica again on the same port. */
export async function killAndRestart(settings: ReplicaSettings, replica: Replica): Promise<{ killedAt: number; healthyAt: number }> {
  const exited = new Promise<void>((resolve) => replica.child.process.once("exit", () => resolve()));
  replica.child.process.kill("SIGKILL");
  const killedAt = Date.now();
  await exited;
  replica.child = spawnReplica(settings, replica.name, replica.port, replica.children.length);
  replica.children.push(replica.child);
  await waitHealthy(replica.child, `${replica.url}/healthz`);
  return { killedAt, healthyAt: Date.now() };
}

/** Reads the new complete lines of one file each time it is asked. */
class LineReader {
  private offset = 0;
  private rest = "";
  constructor(private readonly file: string) {}

  read(): string[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return [];
    }
    if (size <= this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.rest + buffer.toString("utf8");
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    return lines;
  }
}

/** Collects every "full reconcile done" line the replicas (and their restarts) have written so far. */
export class DoneLines {
  readonly lines: FullReconcileDone[] = [];
  private readonly readers = new Map<string, LineReader>();

  constructor(private readonly replicas: readonly Replica[]) {}

  collect(): FullReconcileDone[] {
    const fresh: FullReconcileDone[] = [];
    for (const child of this.replicas.flatMap((r) => r.children)) {
      let reader = this.readers.get(child.logFile);
      if (!reader) this.readers.set(child.logFile, (reader = new LineReader(child.logFile)));
      for (const line of reader.read()) {
        if (!line.includes("full reconcile done")) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; accountId?: string; slot?: string; replica?: string };
          if (entry.msg === "full reconcile done" && entry.accountId && entry.slot && entry.replica) {
            fresh.push({ accountId: entry.accountId, slot: entry.slot, replica: entry.replica });
          }
        } catch { /* a line cut by a SIGKILL */ }
      }
    }
    this.lines.push(...fresh);
    return fresh;
  }
}
