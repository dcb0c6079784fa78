// `idsync serve` as a child process, as an operator starts it: resolved once it logs the URL it listens
// on (PORT=0 picks a free port), rejected if it exits or does not start within a minute.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const BIN = path.resolve("bin/idsync.js");

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed, or the last 500,000 characters of it (a long run's access log is large). */
  output(): string;
}

export async function startServeProcess(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, "serve"], { env });
  let out = "";
  const keep = (chunk: Buffer) => void (out = (out + chunk).slice(-500_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    const check = () => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`serve exited ${child.exitCode}:\n${out}`));
      } else setTimeout(check, 50);
    };
    check();
  });
  return { child, url, output: () => out };
}
