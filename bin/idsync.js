#!/usr/bin/env node
// Runs the compiled CLI when a build exists (the container), else the TypeScript sources through tsx,
// so `npx idsync …` works right after `npm install` with no build step.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const compiled = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
