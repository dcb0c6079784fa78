// Data flows one way: sources → snapshot → mapping → reconcile. Sources only write the snapshot; a later
// stage reads an earlier one's output but never reaches back into a source, and no stage reaches ahead
// except a source into the snapshot it writes. Mapping and planning stay pure (no database, no HTTP).
// Read from the import statements themselves.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";

/** What each stage may import among the stages (besides itself). */
const MAY_IMPORT: Record<string, string[]> = {
  sources: ["snapshot"],
  snapshot: [],
  mapping: ["snapshot"],
  reconcile: ["snapshot", "mapping"],
};
const STAGES = Object.keys(MAY_IMPORT);
const PURE = ["src/mapping", "src/reconcile/plan-changes.ts", "src/reconcile/plan-account.ts", "src/reconcile/ownership.ts",
  "src/reconcile/key-scope.ts", "src/reconcile/identity-resolution.ts", "src/reconcile/removal-brake.ts", "src/reconcile/describe-plan.ts",
  "src/reconcile/held-change-set.ts", "src/reconcile/removal-facts.ts"];
const IMPURE_MODULES = [/\/db\//, /^knex$/, /^pg$/, /^express$/, /\/http\//, /run-sql/];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

function imports(file: string): string[] {
  // value imports only: `import type` carries no code or dependency at run time
  return [...fs.readFileSync(file, "utf8").matchAll(/^import (?!type )[^;]*? from "([^"]+)";/gm)].map((m) => {
    const spec = m[1]!;
    return spec.startsWith(".") ? path.normalize(path.join(path.dirname(file), spec)) : spec;
  });
}

test("stages import only the stages before them (and sources only the snapshot they write)", () => {
  const offences: string[] = [];
  for (const stage of STAGES) {
    for (const file of files(path.join("src", stage))) {
      for (const target of imports(file)) {
        const other = STAGES.find((s) => s !== stage && target.startsWith(path.join("src", s)));
        if (other && !MAY_IMPORT[stage]!.includes(other)) offences.push(`${file} imports ${target}`);
      }
    }
  }
  expect(offences).toEqual([]);
});

test("mapping and planning import no database, HTTP or driver code", () => {
  const pure = PURE.flatMap((p) => (p.endsWith(".ts") ? [p] : files(p)));
  expect(pure.length).toBeGreaterThan(10);
  const offences = pure.flatMap((file) => imports(file).filter((t) => IMPURE_MODULES.some((re) => re.test(t))).map((t) => `${file} imports ${t}`));
  expect(offences).toEqual([]);
});

function allImports(file: string): string[] {
  // type imports too: a type taken from a later stage still ties the two together
  return [...fs.readFileSync(file, "utf8").matchAll(/^import [^;]*? from "([^"]+)";/gm)].map((m) => {
    const spec = m[1]!;
    return spec.startsWith(".") ? path.normalize(path.join(path.dirname(file), spec)) : spec;
  });
}

test("no stage imports a shell, accounts and the snapshot never import a source, and limits import nothing of ours above them (type imports included)", () => {
  const SHELLS = ["src/http", "src/cli", "src/scheduler"];
  const rules: Array<[string, string[]]> = [
    ...["src/sources", "src/snapshot", "src/mapping", "src/reconcile", "src/accounts", "src/audit", "src/webhooks", "src/limits"].map((dir): [string, string[]] => [dir, SHELLS]),
    ["src/accounts", ["src/sources"]],
    ["src/snapshot", ["src/sources"]],
    // a service under the SCIM router, the admin API and the auth throttle alike
    ["src/limits", ["src/sources", "src/accounts", "src/snapshot", "src/mapping", "src/reconcile", "src/db"]],
  ];
  const offences = rules.flatMap(([dir, forbidden]) => files(dir).flatMap((file) =>
    allImports(file).filter((t) => forbidden.some((f) => t.startsWith(f + path.sep))).map((t) => `${file} imports ${t}`)));
  expect(offences).toEqual([]);
});

test("no two files of src/ import each other, directly or round a circle", () => {
  const graph = new Map(files("src").map((f) => [f, allImports(f).filter((t) => t.startsWith("src" + path.sep))]));
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") { circles.push([...trail.slice(trail.indexOf(file)), file].join(" → ")); return; }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  expect(circles).toEqual([]);
});
