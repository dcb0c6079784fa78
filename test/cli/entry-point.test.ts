// Which code bin/idsync.js runs: dist/ only while it is current, so an edit to src/ (or a migration
// another branch left in dist/) never runs stale compiled code. On small package trees in a temporary
// directory, with their files' modification times set explicitly.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { chooseEntryPoint } from "../../bin/entry-point.js";

const roots: string[] = [];
const BUILT = new Date("2026-12-01T10:00:00Z");
const EARLIER = new Date("2026-12-01T09:00:00Z");
const LATER = new Date("2026-12-01T11:00:00Z");

function write(root: string, file: string, at: Date): void {
  const full = path.join(root, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, "// test\n");
  fs.utimesSync(full, at, at);
}

/** A package whose dist/ was built at BUILT from sources last changed at EARLIER. */
function builtPackage(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-entry-"));
  roots.push(root);
  for (const source of ["src/cli/main.ts", "src/db/migrations.ts", "migrations/20261123000001_accounts.ts"]) {
    write(root, source, EARLIER);
    write(root, path.join("dist", source.replace(/\.ts$/, ".js")), BUILT);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

test("a dist/ built after every source runs", () => {
  const root = builtPackage();
  expect(chooseEntryPoint(root)).toEqual({ kind: "dist", file: path.join(root, "dist/src/cli/main.js") });
});

test("a source changed after the build runs the sources, naming it", () => {
  const root = builtPackage();
  write(root, "src/db/migrations.ts", LATER);
  expect(chooseEntryPoint(root)).toEqual({ kind: "sources", file: path.join(root, "src/cli/main.ts"), reason: "src/db/migrations.ts changed after dist/ was built" });
});

test("a new source not compiled yet (a migration just added) runs the sources", () => {
  const root = builtPackage();
  write(root, "migrations/20261202000012_new.ts", EARLIER);
  expect(chooseEntryPoint(root)).toMatchObject({ kind: "sources", reason: "migrations/20261202000012_new.ts changed after dist/ was built" });
});

test("a compiled migration whose source is gone (another branch's) runs the sources", () => {
  const root = builtPackage();
  write(root, "dist/migrations/20261130000099_elsewhere.js", BUILT);
  expect(chooseEntryPoint(root)).toMatchObject({ kind: "sources", reason: "dist/migrations/20261130000099_elsewhere.js has no source any more" });
});

test("no dist/ runs the sources; an image without sources runs dist/, or says how to build it", () => {
  const unbuilt = builtPackage();
  fs.rmSync(path.join(unbuilt, "dist"), { recursive: true });
  expect(chooseEntryPoint(unbuilt)).toMatchObject({ kind: "sources", reason: "dist/ is not built" });

  const image = builtPackage();
  fs.rmSync(path.join(image, "src"), { recursive: true });
  fs.rmSync(path.join(image, "migrations"), { recursive: true });
  expect(chooseEntryPoint(image)).toEqual({ kind: "dist", file: path.join(image, "dist/src/cli/main.js") });
  fs.rmSync(path.join(image, "dist"), { recursive: true });
  expect(chooseEntryPoint(image)).toEqual({ kind: "missing", reason: "dist/src/cli/main.js is missing: build it with `npm run build`" });
});
