// A conformance test generated from the server's own /Schemas and /ResourceTypes: for every attribute
// and sub-attribute the document lists, POST it, read it back, PUT it, and PATCH it with every path form
// of RFC 7644 §3.5.2 plus Okta's and Entra's spellings. Values come from fast-check (seeded): unicode,
// odd case, non-canonical types. Each request must round-trip or fail with the SCIM error the RFC names;
// never a 5xx, never a 2xx that changed nothing. An attribute added to /Schemas is covered here without
// writing a test: nothing below names an attribute except to build a resource's required minimum.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";
import type { AttributeDef } from "../support/published-schema.ts";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const SEED = 20261202;

interface ResourceTypeDoc { name: string; endpoint: string; schema: string; schemaExtensions?: Array<{ schema: string }> }

/** One attribute of one resource type, as /Schemas describes it. */
interface Target {
  readonly resourceType: string;
  readonly endpoint: string;
  readonly urn: string;
  readonly core: boolean;
  readonly attribute: AttributeDef;
}

let harness: ScimHarness;
let client: ScimClient;
let fixtureUser: { id: string; userName: string };
let fixtureGroup: { id: string };
let draws = 0;

/** One value from an arbitrary, reproducible from SEED and the draw's position. */
const draw = <T,>(arbitrary: fc.Arbitrary<T>): T => fc.sample(arbitrary, { seed: SEED + draws++, numRuns: 1 })[0]!;

const oddCase = (text: string) => [...text].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join("");
const unicodeText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 });
const writable = (a: AttributeDef) => a.mutability !== "readOnly";

/** A value of an attribute's type as RFC 7643 §2.3 defines it; `salt` keeps generated values distinct. */
function valueArbitrary(a: AttributeDef, salt: string): fc.Arbitrary<unknown> {
  switch (a.type) {
    case "boolean": return fc.boolean();
    case "integer": return fc.integer({ min: -1_000_000, max: 1_000_000 });
    case "decimal": return fc.integer({ min: -100_000, max: 100_000 }).map((n) => n + 0.25);
    case "dateTime": return fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2035, 0, 1) }).map((ms) => new Date(ms).toISOString());
    case "binary": return fc.uint8Array({ minLength: 1, maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString("base64"));
    case "reference": {
      const types = a.referenceTypes ?? [];
      const resource = types.find((t) => t === "User" || t === "Group");
      if (resource) return fc.constant(`${harness.scimUrl}/${resource}s/${resource === "User" ? fixtureUser.id : fixtureGroup.id}`);
      return unicodeText.map((t) => `https://example.com/${salt}/${encodeURIComponent(t)}`);
    }
    case "complex": {
      const subs = (a.subAttributes ?? []).filter(writable).filter((s) => s.name !== "primary" || !a.multiValued);
      return fc.record(Object.fromEntries(subs.map((s) => [s.name, valueArbitrary(s, salt)])));
    }
    default: {
      // canonical values in odd case, or a value of the client's own (Entra's "WindowsAzureActiveDirectoryRole")
      if (a.canonicalValues?.length) return fc.oneof(fc.constantFrom(...a.canonicalValues).map(oddCase), unicodeText.map((t) => `Custom-${t}`));
      const unique = a.uniqueness !== undefined && a.uniqueness !== "none";
      return unicodeText.map((t) => (unique ? `${salt}-${oddCase(t)}@conformance.example.com` : `${oddCase(salt.slice(0, 4))} ${t}`));
    }
  }
}

/** A whole value for the attribute: an array of one or two elements when multi-valued (at most one primary). */
function valueFor(target: Target): unknown {
  const a = target.attribute;
  const salt = randomUUID();
  if (target.resourceType === "Group" && a.name === "members") {
    return [{ value: fixtureUser.id, type: "User", display: draw(unicodeText) }, { value: fixtureGroup.id, type: "Group" }];
  }
  if (!a.multiValued) return draw(valueArbitrary(a, salt));
  const count = draw(fc.integer({ min: 1, max: 2 }));
  const elements = Array.from({ length: count }, (_, i) => draw(valueArbitrary(a, `${salt}-${i}`)));
  const hasPrimary = a.subAttributes?.some((s) => s.name === "primary");
  if (hasPrimary) (elements[0] as Record<string, unknown>).primary = true;
  // element `value`s must differ for value filters to select exactly one
  if (a.type === "complex" && a.subAttributes?.some((s) => s.name === "value" && s.type === "string")) {
    elements.forEach((e, i) => ((e as Record<string, unknown>).value = `${i}-${salt}-${draw(unicodeText)}`));
  }
  return elements;
}

/** The minimal body of a resource type (its required attributes), plus `extra`. */
function minimalBody(resourceType: string, schemas: string[], extra: Record<string, unknown>): Record<string, unknown> {
  const required = resourceType === "User" ? { userName: `min-${randomUUID()}@conformance.example.com` } : { displayName: `group-${randomUUID()}` };
  return { schemas, ...required, ...extra };
}

const findKey = (object: Record<string, unknown> | undefined, name: string) =>
  object ? Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase()) : undefined;

/** The attribute's value as a resource holds it (the extension's object for extension attributes). */
function read(resource: Record<string, unknown>, target: Target): unknown {
  const container = target.core ? resource : (resource[findKey(resource, target.urn) ?? ""] as Record<string, unknown> | undefined);
  const key = findKey(container, target.attribute.name);
  return key === undefined ? undefined : container![key];
}

/** What the server must hold after storing `sent`: RFC 7643 type coercion only (booleans, dateTime). */
function expected(sent: unknown, a: AttributeDef): unknown {
  if (Array.isArray(sent)) return sent.map((element) => expected(element, { ...a, multiValued: false }));
  if (a.type === "boolean" && typeof sent === "string") return sent.toLowerCase() === "true";
  if (a.type === "dateTime" && typeof sent === "string") return new Date(sent).toISOString();
  if (a.type === "complex" && sent && typeof sent === "object") {
    return Object.fromEntries(Object.entries(sent).map(([key, value]) => {
      const sub = a.subAttributes?.find((s) => s.name.toLowerCase() === key.toLowerCase());
      return [sub?.name ?? key, sub ? expected(value, sub) : value];
    }));
  }
  return sent;
}

/**
 * The state a value stands for, for comparison: RFC 7643 §2.5 makes unassigned, null, [] and {} the same
 * state; multi-valued attributes are unordered (§2.4), so arrays are compared sorted. Group members come
 * back with the server's $ref and type beside what was sent: only value and type are compared (display is
 * checked on POST, where the member is new).
 */
function state(value: unknown, target: Target, keepDisplay = false): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    const members = target.resourceType === "Group" && target.attribute.name === "members";
    const elements = value.map((e) => members && e && typeof e === "object"
      ? Object.fromEntries(Object.entries(e as Record<string, unknown>).filter(([k]) => k === "value" || k === "type" || (keepDisplay && k === "display")))
      : state(e, target));
    const unique = members ? [...new Map(elements.map((e) => [(e as Record<string, unknown>).value, e])).values()] : elements;
    return unique.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, state(v, target)] as const)
      .filter(([, v]) => v !== undefined).sort(([x], [y]) => x.localeCompare(y));
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value;
}

/** Attributes the server gives a value when a client leaves them unassigned (docs/scim-behaviour.md). */
const SERVER_DEFAULTS: Record<string, unknown> = { "User:active": true };

const failures: string[] = [];
const counted = new Map<string, number>();

function note(form: string): void {
  counted.set(form, (counted.get(form) ?? 0) + 1);
}

function sane(label: string, response: ScimResponse): boolean {
  if (response.status >= 500) {
    failures.push(`${label}: ${response.status} ${JSON.stringify(response.body)}`);
    return false;
  }
  if (response.status >= 400 && (response.body?.schemas?.[0] !== ERROR || typeof response.body?.detail !== "string")) {
    failures.push(`${label}: ${response.status} is not a SCIM error body: ${JSON.stringify(response.body)}`);
    return false;
  }
  return true;
}

/** A write that must succeed and leave `want` readable (by GET) as the attribute's value. */
async function roundTrip(label: string, target: Target, id: string, response: ScimResponse, want: unknown): Promise<void> {
  if (!sane(label, response)) return;
  if (response.status >= 300) {
    failures.push(`${label}: ${response.status} ${response.body?.scimType ?? ""} ${response.body?.detail}`);
    return;
  }
  const stored = await client.get(`${target.endpoint}/${id}`);
  const raw = read(stored.body, target);
  if (target.attribute.returned === "never") {
    if (raw !== undefined) failures.push(`${label}: a returned:"never" attribute was returned`);
    return;
  }
  const keepDisplay = label.endsWith("POST");
  const actual = state(raw, target, keepDisplay);
  const fallback = want === undefined && target.core ? SERVER_DEFAULTS[`${target.resourceType}:${target.attribute.name}`] : undefined;
  try {
    expect(actual).toEqual(state(want ?? fallback, target, keepDisplay));
  } catch {
    failures.push(`${label}: read back ${JSON.stringify(actual)}, expected ${JSON.stringify(state(want ?? fallback, target, keepDisplay))}`);
  }
}

/** A write the RFC refuses: it must be a 4xx SCIM error with one of the scimTypes given. */
function refused(label: string, response: ScimResponse, scimTypes: readonly string[]): void {
  if (!sane(label, response)) return;
  if (response.status < 400 || !scimTypes.includes(response.body.scimType)) {
    failures.push(`${label}: expected a 400 ${scimTypes.join("/")}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
}

const patch = (target: Target, id: string, ...Operations: object[]) => client.patch(`${target.endpoint}/${id}`, { schemas: [PATCH_OP], Operations });

/** Resources the resource type's PATCH answers: a User answers 200 with itself, a Group 204 (as Entra asks). */
async function create(target: Target, schemas: string[], value: unknown): Promise<{ id: string; response: ScimResponse }> {
  const body = target.core ? minimalBody(target.resourceType, schemas, { [target.attribute.name]: value })
    : minimalBody(target.resourceType, schemas, { [target.urn]: { [target.attribute.name]: value } });
  const response = await client.post(target.endpoint, body);
  return { id: response.body?.id, response };
}

async function exerciseAttribute(target: Target, schemas: string[]): Promise<void> {
  const a = target.attribute;
  const label = (form: string) => `${target.resourceType} ${target.core ? "" : `${target.urn}:`}${a.name} — ${form}`;
  const qualified = `${target.urn}:${a.name}`;
  const path = target.core ? a.name : qualified;
  const isMembers = target.resourceType === "Group" && a.name === "members";

  // POST, then GET
  const first = valueFor(target);
  const { id, response } = await create(target, schemas, first);
  note("POST + GET");
  if (!sane(label("POST"), response) || response.status !== 201) {
    if (response.status !== 201) failures.push(`${label("POST")}: ${response.status} ${JSON.stringify(response.body)}`);
    return;
  }
  await roundTrip(label("POST"), target, id, { status: 200, headers: response.headers, body: response.body }, expected(first, a));

  // PUT with the attribute's name in odd case (RFC 7643 §2.1: names are case-insensitive)
  const putValue = valueFor(target);
  const current = (await client.get(`${target.endpoint}/${id}`)).body;
  const put = target.core ? { ...current, [oddCase(a.name)]: putValue, [a.name]: undefined }
    : { ...current, [target.urn]: { ...(current[target.urn] ?? {}), [oddCase(a.name)]: putValue, [a.name]: undefined } };
  note("PUT (odd-case name)");
  await roundTrip(label("PUT"), target, id, await client.put(`${target.endpoint}/${id}`, JSON.parse(JSON.stringify(put))), expected(putValue, a));

  // PATCH add: appends to a multi-valued attribute, sets a single-valued one
  const added = valueFor(target);
  const before = read((await client.get(`${target.endpoint}/${id}`)).body, target);
  const afterAdd = a.multiValued ? [...((before as unknown[]) ?? []), ...(expected(added, a) as unknown[])] : expected(added, a);
  note("PATCH add, attribute path");
  await roundTrip(label("PATCH add"), target, id, await patch(target, id, { op: "add", path, value: added }), afterAdd);

  // PATCH replace, capitalised op (Entra), attribute path; then URN-qualified path
  const replaced = valueFor(target);
  note("PATCH Replace (Entra case), attribute path");
  await roundTrip(label("PATCH Replace"), target, id, await patch(target, id, { op: "Replace", path, value: replaced }), expected(replaced, a));
  if (target.core) {
    const byUrn = valueFor(target);
    note("PATCH replace, URN-qualified path");
    await roundTrip(label("PATCH replace URN-qualified"), target, id, await patch(target, id, { op: "replace", path: qualified, value: byUrn }), expected(byUrn, a));
  }

  // PATCH without a path: a value object keyed by the attribute (URN-qualified for extensions)
  const pathless = valueFor(target);
  note("PATCH replace, path-less value");
  await roundTrip(label("PATCH path-less"), target, id,
    await patch(target, id, { op: "replace", value: target.core ? { [a.name]: pathless } : { [qualified]: pathless } }), expected(pathless, a));

  // extension URN as the path, the value an object of its attributes, with and without its own `schemas`
  if (!target.core) {
    const plain = valueFor(target);
    note("PATCH replace, extension URN path, object value");
    await roundTrip(label("PATCH URN path"), target, id, await patch(target, id, { op: "replace", path: target.urn, value: { [a.name]: plain } }), expected(plain, a));
    const withSchemas = valueFor(target);
    note("PATCH replace, extension URN path, object value with schemas");
    await roundTrip(label("PATCH URN path + schemas"), target, id,
      await patch(target, id, { op: "replace", path: target.urn, value: { schemas: [target.urn], [a.name]: withSchemas } }), expected(withSchemas, a));
  }

  // Entra's string booleans ("True"/"False") where the type is boolean
  if (a.type === "boolean") {
    for (const spelled of ["False", "True"]) {
      note("PATCH Replace, string boolean (Entra)");
      await roundTrip(label(`PATCH "${spelled}"`), target, id, await patch(target, id, { op: "Replace", path, value: spelled }), spelled === "True");
    }
  }

  // sub-attributes of a complex attribute: dotted path (single-valued) or a value filter (multi-valued)
  for (const sub of (a.subAttributes ?? []).filter(writable)) {
    if (isMembers) break; // members' sub-attributes are immutable: covered by the value-filter removes below
    const subTarget: Target = { ...target, attribute: sub };
    const subLabel = (form: string) => `${label(form)} .${sub.name}`;
    const subValue = sub.name === "primary" ? true : draw(valueArbitrary(sub, randomUUID()));
    const holder = read((await client.get(`${target.endpoint}/${id}`)).body, target) as Record<string, unknown> | Array<Record<string, unknown>>;
    if (!a.multiValued) {
      note("PATCH replace, sub-attribute path");
      const response = await patch(target, id, { op: "replace", path: `${path}.${sub.name}`, value: subValue });
      await roundTrip(subLabel("PATCH replace sub-attribute"), target, id, response, { ...(holder as object), [sub.name]: expected(subValue, sub) });
      note("PATCH remove, sub-attribute path");
      const removal = await patch(target, id, { op: "Remove", path: `${path}.${sub.name}` });
      if (sub.required) refused(subLabel("PATCH remove required sub-attribute"), removal, ["mutability", "invalidValue"]);
      else {
        const { [sub.name]: _gone, ...rest } = holder as Record<string, unknown>;
        await roundTrip(subLabel("PATCH remove sub-attribute"), target, id, removal, Object.keys(rest).length ? rest : undefined);
      }
      void subTarget;
      continue;
    }
    const key = (a.subAttributes ?? []).find((s) => s.name === "value" && s.type === "string")
      ?? (a.subAttributes ?? []).find((s) => s.type === "string" && s.name !== sub.name && writable(s));
    const elements = Array.isArray(holder) ? holder : [];
    const chosen = elements.find((e) => typeof e[key?.name ?? ""] === "string");
    if (!key || !chosen || key.name === sub.name) continue;
    const filter = `${path}[${key.name} eq ${JSON.stringify(chosen[key.name])}].${sub.name}`;
    note("PATCH replace, value filter + sub-attribute");
    const response = await patch(target, id, { op: "replace", path: filter, value: subValue });
    await roundTrip(subLabel("PATCH replace value filter"), target, id, response,
      elements.map((e) => (e === chosen ? { ...e, [sub.name]: expected(subValue, sub) } : e)));
  }

  // value filter selecting one element of a multi-valued attribute, removed
  if (a.multiValued) {
    const elements = read((await client.get(`${target.endpoint}/${id}`)).body, target) as Array<Record<string, unknown>> | unknown[] | undefined;
    const first = Array.isArray(elements) ? elements[0] : undefined;
    const filter = a.type !== "complex" ? undefined
      : isMembers ? `value eq ${JSON.stringify((first as Record<string, unknown>)?.value)}`
      : (() => {
        const key = (a.subAttributes ?? []).find((s) => s.type === "string" && writable(s) && typeof (first as Record<string, unknown>)?.[s.name] === "string");
        return key ? `${key.name} eq ${JSON.stringify((first as Record<string, unknown>)[key.name])}` : undefined;
      })();
    if (filter && Array.isArray(elements)) {
      note("PATCH remove, value filter");
      const matching = elements.filter((e) => filterSelects(e as Record<string, unknown>, filter));
      const rest = elements.filter((e) => !matching.includes(e));
      await roundTrip(label(`PATCH remove ${path}[${filter}]`), target, id, await patch(target, id, { op: "remove", path: `${path}[${filter}]` }), rest.length ? rest : undefined);
    }
  }

  // remove the whole attribute ("Remove", Entra's case); a required one is refused
  note("PATCH Remove, attribute path");
  const removal = await patch(target, id, { op: "Remove", path });
  if (a.required) refused(label("PATCH remove required"), removal, ["mutability", "invalidValue"]);
  else await roundTrip(label("PATCH Remove"), target, id, removal, undefined);
}

/** Whether `attr eq "v"` (the only filter built above) selects an element. */
function filterSelects(element: Record<string, unknown>, filter: string): boolean {
  const match = /^(\S+) eq (".*")$/s.exec(filter);
  if (!match) return false;
  const key = findKey(element, match[1]!);
  const value = key === undefined ? undefined : element[key];
  return typeof value === "string" && value.toLowerCase() === (JSON.parse(match[2]!) as string).toLowerCase();
}

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("conformance");
  const user = await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `fixture-${randomUUID()}@conformance.example.com` });
  const group = await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: `fixture-${randomUUID()}` });
  fixtureUser = user.body;
  fixtureGroup = group.body;
});
afterAll(() => harness?.close());

test("every attribute /Schemas publishes round-trips through POST, GET, PUT and each PATCH form", async () => {
  const schemas = (await client.get("/Schemas")).body.Resources as Array<{ id: string; attributes: AttributeDef[] }>;
  const resourceTypes = (await client.get("/ResourceTypes")).body.Resources as ResourceTypeDoc[];
  // User and Group are the resource types SCIM clients write; any other type /ResourceTypes lists is read-only
  const writableTypes = resourceTypes.filter((r) => r.name === "User" || r.name === "Group");
  expect(writableTypes.map((r) => r.name).sort()).toEqual(["Group", "User"]);
  const targets: Target[] = [];
  for (const type of writableTypes) {
    for (const urn of [type.schema, ...(type.schemaExtensions ?? []).map((e) => e.schema)]) {
      const schema = schemas.find((s) => s.id === urn);
      expect(schema, `/Schemas describes ${urn}`).toBeDefined();
      for (const attribute of schema!.attributes.filter(writable)) {
        targets.push({ resourceType: type.name, endpoint: type.endpoint, urn, core: urn === type.schema, attribute });
      }
    }
  }
  for (const target of targets) {
    const type = writableTypes.find((r) => r.name === target.resourceType)!;
    const schemasOf = [type.schema, ...(target.core ? [] : [target.urn])];
    await exerciseAttribute(target, schemasOf);
  }
  const subAttributes = targets.reduce((n, t) => n + (t.attribute.subAttributes ?? []).filter(writable).length, 0);
  const requests = [...counted.values()].reduce((n, c) => n + c, 0);
  console.log(`schema conformance: ${targets.length} attributes (+${subAttributes} sub-attributes) × ${counted.size} forms, ${requests} checks, ${failures.length} failures`);
  expect(failures).toEqual([]);
}, 120_000);
