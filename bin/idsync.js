#!/usr/bin/env node
// `idsync`: runs the compiled dist/ (built by `npm install`/`npm ci` through the prepare script, and in
// the image) when it is current, else the TypeScript sources through tsx: slower to start, never stale.
import { fileURLToPath, pathToFileURL } from "node:url";
import { chooseEntryPoint } from "./entry-point.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = chooseEntryPoint(root);
if (entry.kind === "missing") {
  process.stderr.write(`idsync: ${entry.reason}\n`);
  process.exit(70);
}
if (entry.kind === "sources") {
  // a person at a terminal learns why it is slow; scripts and --json get no extra line on stderr
  if (process.stderr.isTTY && !process.argv.includes("--json")) process.stderr.write(`idsync: running the sources (${entry.reason}); \`npm run build\` makes commands start faster\n`);
  const { register } = await import("tsx/esm/api");
  register();
}
await import(pathToFileURL(entry.file).href);
