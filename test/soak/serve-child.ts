// `idsync serve` as a child process for the soak suites (the faults soak SIGKILLs it, the load soak reads
// its memory), on an embedded data directory or on a PostgreSQL schema of its own, and the same database
// opened in the test process between lives.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Knex } from "knex";
import { openDatabase, postgresKnex } from "../../src/db/database.ts";
import { migrateToLatest } from "../../src/db/migrations.ts";
import { startServeProcess } from "../support/serve-process.ts";

export const ADMIN_TOKEN = "faults-soak-admin-token-0123456789";

export interface FaultStore {
  readonly kind: "postgres" | "pglite";
  readonly dataDir: string;
  readonly schema: string | null;
  /** Environment of a child on this database. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** The database in this process (on PGlite only while no child holds it). */
  open(): Promise<{ knex: Knex; close(): Promise<void> }>;
  drop(): Promise<void>;
}

export async function createFaultStore(): Promise<FaultStore> {
  const url = process.env.DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-faults-"));
  const schema = url ? `faults_${randomBytes(6).toString("hex")}` : null;
  if (url) {
    const admin = postgresKnex(url);
    await admin.raw(`create schema ${schema}`);
    await admin.destroy();
  }
  const store: FaultStore = {
    kind: url ? "postgres" : "pglite", dataDir, schema,
    env(extra = {}) {
      const { DATABASE_URL: _ignored, ...env } = process.env;
      const db: Record<string, string> = url ? { DATABASE_URL: `${url}${url.includes("?") ? "&" : "?"}options=-csearch_path%3D${schema}`, FAULT_SCHEMA: schema! } : {};
      return { ...env, IDSYNC_DATA_DIR: dataDir, LOG_LEVEL: "info", ...db, ...extra };
    },
    async open() {
      if (url) {
        const knex = postgresKnex(url, schema!);
        await migrateToLatest(knex, schema!);
        return { knex, close: () => knex.destroy() };
      }
      const db = await openDatabase({ dataDir });
      await migrateToLatest(db.knex);
      return { knex: db.knex, close: () => db.close() };
    },
    async drop() {
      if (url) {
        const admin = postgresKnex(url);
        await admin.raw(`drop schema if exists ${schema} cascade`);
        await admin.destroy();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return store;
}

export interface ServeChild {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** Resident set size in bytes, from /proc. */
  rss(): number;
  /** SIGKILL, resolved once the process is reaped (so its data-dir lock is seen as stale). */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function spawnServe(store: FaultStore): Promise<ServeChild> {
  const { child, url, output } = await startServeProcess(store.env({ PORT: "0", HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN }));
  return {
    child, url, output,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) * 1024,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

export async function admin(url: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(`${url}/admin/v1${p}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
