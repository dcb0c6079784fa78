// `node bin/idsync.js …` run as an operator runs it, alone or inside a real shell pipeline, with what it
// printed and its exit code. The server it talks to is a real `idsync serve` (../support/serve-process.ts).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BIN } from "../support/serve-process.ts";

const exec = promisify(execFile);

export interface Ran {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

async function settle(running: Promise<{ stdout: string; stderr: string }>): Promise<Ran> {
  try {
    const { stdout, stderr } = await running;
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

export function runIdsync(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return settle(exec(process.execPath, [BIN, ...args], { env }));
}

/**
 * `idsync <args> | <reader>` in bash; `code` is idsync's own exit status (PIPESTATUS[0]), `stdout`
 * what the reader printed, `stderr` what either wrote there.
 */
export function runPiped(args: string[], reader: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const quoted = [process.execPath, BIN, ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  return settle(exec("bash", ["-c", `${quoted} | ${reader}; exit "\${PIPESTATUS[0]}"`], { env }));
}

/** A stack trace's frames ("    at fn (file:line:col)"): never on a known failure's stderr. */
export const STACK_FRAME = /^\s+at .+:\d+/m;
