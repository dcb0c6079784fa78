// What commands print: JSON with --json, else short aligned text for a person. Errors go to stderr in
// the same two forms.
import { InternalError, type CliError } from "./cli-errors.ts";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Array<Record<string, unknown>>, columns: string[]): void {
  const cells = [columns, ...rows.map((r) => columns.map((c) => formatCell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()}\n`);
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value)) return value.join(",");
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** One line for a person, or one JSON object for a script; a stack only for a bug, and only as text. */
export function printError(error: CliError, asJson: boolean): void {
  if (asJson) return void process.stderr.write(`${JSON.stringify({ error: error.toJson() })}\n`);
  process.stderr.write(`idsync: ${error.message}\n`);
  if (error instanceof InternalError && error.originalStack) process.stderr.write(`${error.originalStack}\n`);
}

/**
 * A reader that stops early (`idsync members | head -1`) closes the pipe; the next write fails with
 * EPIPE, which Node raises as an unhandled 'error' event with a stack. Nobody is left to read the rest,
 * so the command ends there, quietly, with the exit code it had so far.
 */
export function endQuietlyOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}
