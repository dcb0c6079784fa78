// docs/scim-behaviour.md documents every attribute /Schemas publishes: one table row per attribute and
// sub-attribute under its schema's heading, with /Schemas' own type, mutability, returned and uniqueness.
// An attribute added to (or removed from) the schemas fails here until the document says what idsync
// does with it.
import fs from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";
import type { AttributeDef } from "../support/published-schema.ts";

const DOC = new URL("../../docs/scim-behaviour.md", import.meta.url);

interface Row { type: string; mutability: string; returned: string; uniqueness: string; behaviour: string }

/** The table's type cell, as the document spells it. */
function typeCell(a: AttributeDef): string {
  return a.type + (a.multiValued ? ", multi-valued" : "") + (a.required ? ", required" : "") +
    (a.canonicalValues?.length ? `, canonical: ${a.canonicalValues.join(", ")}` : "") +
    (a.referenceTypes?.length ? ` (${a.referenceTypes.join(", ")})` : "");
}

function expectedRows(attributes: AttributeDef[], parent = ""): Map<string, Omit<Row, "behaviour">> {
  const rows = new Map<string, Omit<Row, "behaviour">>();
  for (const a of attributes) {
    const name = parent + a.name;
    rows.set(name, { type: typeCell(a), mutability: a.mutability, returned: a.returned, uniqueness: a.uniqueness || "—" });
    for (const [sub, row] of expectedRows(a.subAttributes ?? [], `${name}.`)) rows.set(sub, row);
  }
  return rows;
}

/** The attribute rows under the heading that names `urn` (a `### … \`urn\`` line), up to the next heading. */
function documentedRows(doc: string, urn: string): Map<string, Row> | undefined {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => /^###\s/.test(l) && l.includes(`\`${urn}\``));
  if (start < 0) return undefined;
  const rows = new Map<string, Row>();
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3}\s/.test(line)) break;
    const cells = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!cells) continue;
    const [type, mutability, returned, uniqueness, ...behaviour] = cells[2]!.split(" | ").map((c) => c.trim());
    rows.set(cells[1]!, { type: type!, mutability: mutability!, returned: returned!, uniqueness: uniqueness!, behaviour: behaviour.join(" | ") });
  }
  return rows;
}

let harness: ScimHarness;
let client: ScimClient;
beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("behaviour-doc");
});
afterAll(() => harness?.close());

test("docs/scim-behaviour.md has a row for every attribute and sub-attribute /Schemas publishes, with its properties", async () => {
  const schemas = (await client.get("/Schemas")).body.Resources as Array<{ id: string; attributes: AttributeDef[] }>;
  const doc = fs.readFileSync(DOC, "utf8");
  expect(schemas.length).toBeGreaterThanOrEqual(4);
  for (const schema of schemas) {
    const documented = documentedRows(doc, schema.id);
    expect(documented, `a "### … \`${schema.id}\`" section`).toBeDefined();
    const expected = expectedRows(schema.attributes);
    expect([...documented!.keys()].sort(), schema.id).toEqual([...expected.keys()].sort());
    for (const [name, row] of expected) {
      const { behaviour, ...properties } = documented!.get(name)!;
      expect(properties, `${schema.id} ${name}`).toEqual(row);
      expect(behaviour.length, `${schema.id} ${name}: what idsync does`).toBeGreaterThan(5);
    }
  }
});

test("the comparison notices a missing row and a wrong property", () => {
  const doc = "### X `urn:x`\n| attribute | type | mutability | returned | uniqueness | what idsync does |\n|---|---|---|---|---|---|\n" +
    "| `a` | string | readWrite | default | none | Stored as sent |\n";
  const rows = documentedRows(doc, "urn:x")!;
  const expected = expectedRows([
    { name: "a", type: "string", multiValued: false, required: false, mutability: "readOnly", returned: "default", uniqueness: "none" },
    { name: "b", type: "boolean", multiValued: false, required: false, mutability: "readWrite", returned: "default" },
  ]);
  expect([...rows.keys()]).not.toEqual([...expected.keys()]);
  expect(rows.get("a")).not.toMatchObject(expected.get("a")!);
  expect(documentedRows(doc, "urn:y")).toBeUndefined();
});
