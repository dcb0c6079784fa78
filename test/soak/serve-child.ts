// `idsync serve` as a child process for the soak suites: on a fresh embedded data directory, or, when
// DATABASE_URL is set, on PostgreSQL in a schema of its own (search_path through the connection's
// options); its URL read from its first log line; its resident memory readable while it runs.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { postgresKnex } from "../../src/db/database.ts";

export interface ServeChild {
  readonly url: string;
  readonly adminToken: string;
  readonly process: ChildProcess;
  /** Resident set size in bytes, from /proc. */
  rss(): number;
  output(): string;
  stop(): Promise<void>;
}

export async function startServeChild(env: Record<string, string> = {}): Promise<ServeChild> {
  const adminToken = `soak-admin-${randomBytes(12).toString("hex")}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-soak-"));
  const { DATABASE_URL: pgUrl, ...inherited } = process.env;
  let database: Record<string, string> = {};
  let dropSchema = async () => undefined;
  if (pgUrl) {
    const schema = `soak_${randomBytes(6).toString("hex")}`;
    const admin = postgresKnex(pgUrl);
    await admin.raw(`create schema ${schema}`);
    const url = new URL(pgUrl);
    url.searchParams.set("options", `-c search_path=${schema}`);
    database = { DATABASE_URL: url.toString() };
    dropSchema = async () => {
      await admin.raw(`drop schema ${schema} cascade`);
      await admin.destroy();
    };
  }
  const child = spawn(process.execPath, [path.resolve("bin/idsync.js"), "serve"], {
    env: { ...inherited, IDSYNC_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: adminToken, IDSYNC_DEMO: "false", LOG_LEVEL: "info", ...database, ...env },
  });
  let output = "";
  // the access log of a long run is large: keep its tail only
  const keep = (chunk: Buffer) => void (output = (output + chunk).slice(-200_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`serve exited:\n${output}`));
      } else setTimeout(check, 100);
    };
    check();
  });
  return {
    url, adminToken, process: child,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) * 1024,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      await dropSchema();
    },
  };
}
