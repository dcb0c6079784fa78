// Which code `idsync` runs. The compiled dist/ starts in a fraction of a second; the TypeScript sources
// through tsx take seconds (compiled at every start). dist/ runs only while it is current: every source
// under src/ and migrations/ has its compiled file, written no earlier than the source was last changed.
// So a dist/ left behind by an edit never runs silently: the sources run instead until `npm run build`.
// Plain JavaScript, no dependencies: this runs before anything is compiled.
import fs from "node:fs";
import path from "node:path";

const SOURCE_DIRS = ["src", "migrations"];
export const COMPILED_MAIN = "dist/src/cli/main.js";
export const SOURCE_MAIN = "src/cli/main.ts";

function filesEndingIn(ending, root, dir) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesEndingIn(ending, root, relative);
    return entry.name.endsWith(ending) && !entry.name.endsWith(".d.ts") ? [relative] : [];
  });
}

function modifiedMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Why dist/ is not current, naming the first file that shows it, or undefined when it is: a source
 * whose compiled file is missing or older than it, or a compiled file whose source is gone (a migration
 * left in dist/ by another branch would otherwise run).
 */
export function staleSource(root) {
  for (const source of SOURCE_DIRS.flatMap((dir) => filesEndingIn(".ts", root, dir))) {
    const compiled = modifiedMs(path.join(root, "dist", source.replace(/\.ts$/, ".js")));
    if (compiled === undefined || compiled < modifiedMs(path.join(root, source))) return `${source} changed after dist/ was built`;
  }
  for (const compiled of SOURCE_DIRS.flatMap((dir) => filesEndingIn(".js", path.join(root, "dist"), dir))) {
    if (!fs.existsSync(path.join(root, compiled.replace(/\.js$/, ".ts")))) return `dist/${compiled} has no source any more`;
  }
  return undefined;
}

/**
 * { kind: "dist" | "sources", file, reason? } for the package at `root`; { kind: "missing", reason }
 * when neither can run (an image without dist/).
 */
export function chooseEntryPoint(root) {
  const compiled = path.join(root, COMPILED_MAIN);
  const sources = path.join(root, SOURCE_MAIN);
  if (!fs.existsSync(sources)) {
    // an installed image ships only dist/
    return fs.existsSync(compiled) ? { kind: "dist", file: compiled } : { kind: "missing", reason: `${COMPILED_MAIN} is missing: build it with \`npm run build\`` };
  }
  const stale = staleSource(root);
  if (stale === undefined) return { kind: "dist", file: compiled };
  return { kind: "sources", file: sources, reason: fs.existsSync(compiled) ? stale : "dist/ is not built" };
}
