#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npx idsync …` works right after `npm install` with no
// build step; the container, which ships only the compiled dist/, runs that instead.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const sources = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(sources).href);
} else {
  await import(new URL("../dist/src/cli/main.js", import.meta.url).href);
}
