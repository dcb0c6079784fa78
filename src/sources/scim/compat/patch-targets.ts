// PATCH operations whose RFC 7644 meaning scimmy 1.3.5 gets wrong, rewritten against the resource as
// stored before scimmy applies them (ops already lower-cased):
// - a URN-qualified core path (`urn:…:core:2.0:User:displayName`, as a path or a path-less key) is refused
//   as an invalid path; RFC 7644 §3.5.2 allows it — the core URN prefix is dropped;
// - `replace` of an attribute that is absent answers noTarget; §3.5.2.3 says to treat it as an `add`;
// - `remove` of `attr[filter]` matching every element fails inside scimmy with an engine message; an empty
//   multi-valued attribute is the unassigned one (RFC 7643 §2.5), so it becomes a remove of `attr`;
// - a value filter that does not parse (`emails[type eq]`) was a silent 200 on remove and noTarget on
//   replace; it is 400 invalidPath (RFC 7644 §3.12: the path is malformed).
import { parse, Tester, type Filter } from "scim2-parse-filter";
import { scimError } from "../scim-error.ts";

type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);
const findKey = (object: JsonObject, name: string): string | undefined => Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());

/** The path (or key) without the resource's core schema URN. */
export function withoutCoreUrn(path: string, coreUrn: string): string {
  return path.toLowerCase().startsWith(`${coreUrn.toLowerCase()}:`) ? path.slice(coreUrn.length + 1) : path;
}

/** `[container, attribute, rest]` for a path: extension URNs are looked up among the resource's keys. */
function split(current: JsonObject, path: string): { container: JsonObject | undefined; rest: string } {
  if (!path.toLowerCase().startsWith("urn:")) return { container: current, rest: path };
  const urn = Object.keys(current).find((k) => k.toLowerCase().startsWith("urn:") && path.toLowerCase().startsWith(`${k.toLowerCase()}:`));
  if (urn === undefined) return { container: undefined, rest: path };
  const value = current[urn];
  return { container: isJsonObject(value) ? value : undefined, rest: path.slice(urn.length + 1) };
}

function valueAt(current: JsonObject, path: string): unknown {
  const { container, rest } = split(current, path);
  let value: unknown = container;
  for (const name of rest.split(".")) {
    if (!isJsonObject(value)) return undefined;
    const key = findKey(value, name);
    value = key === undefined ? undefined : value[key];
  }
  return value;
}

/** `a.b` → `a` and `b` (after any URN, whose version holds dots); undefined for a path without a sub-attribute. */
function parentPath(path: string): { path: string; sub: string } | undefined {
  // attribute names hold no ":" (RFC 7643 §2.1), so a URN-qualified path's attribute follows the last one
  const start = path.toLowerCase().startsWith("urn:") ? path.lastIndexOf(":") + 1 : 0;
  const dot = path.lastIndexOf(".");
  if (dot < start) return undefined;
  return { path: path.slice(0, dot), sub: path.slice(dot + 1) };
}

const tester = new Tester();
const lowerStrings = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null), (_k, v: unknown) => (typeof v === "string" ? v.toLowerCase() : v));

/** Whether `filter` (compared case-insensitively, as caseExact=false attributes are) selects every element. */
function selectsEvery(elements: unknown[], filterText: string): boolean {
  let filter: Filter;
  try {
    filter = lowerStrings(parse(filterText)) as Filter;
  } catch {
    return false; // assertFilterParses has refused it already
  }
  return elements.length > 0 && elements.every((element) => isJsonObject(element) && tester.test(lowerStrings(element) as JsonObject, filter));
}

const VALUE_FILTER = /^([^[\]]+)\[(.+)\]$/s;
const ANY_VALUE_FILTER = /^[^[\]]+\[(.+)\](?:\.[^[\]]+)?$/s;

/** A path's value filter must parse; the path's attribute names are scimmy's to check against /Schemas. */
function assertFilterParses(path: string): void {
  const filter = ANY_VALUE_FILTER.exec(path)?.[1];
  if (filter === undefined) return;
  try {
    parse(filter);
  } catch {
    throw scimError(400, "invalidPath", `"${path}": the value filter is not valid filter syntax (RFC 7644 §3.4.2.2)`);
  }
}

/** The operations rewritten as described above; `current` is the resource as rendered before the PATCH. */
export function rewriteForRfcTargets(operations: readonly unknown[], current: JsonObject, coreUrn: string): unknown[] {
  const touched = new Set<string>();
  return operations.map((operation) => {
    if (!isJsonObject(operation) || typeof operation.op !== "string") return operation;
    if (typeof operation.path === "string") assertFilterParses(operation.path);
    let rewritten: JsonObject = operation;
    if (typeof rewritten.path === "string") rewritten = { ...rewritten, path: withoutCoreUrn(rewritten.path, coreUrn) };
    else if (isJsonObject(rewritten.value)) {
      rewritten = { ...rewritten, value: Object.fromEntries(Object.entries(rewritten.value).map(([k, v]) => [withoutCoreUrn(k, coreUrn), v])) };
    }
    const path = rewritten.path;
    if (typeof path !== "string" || path === "") return rewritten;
    const attribute = path.split(/[[.]/)[0]!.toLowerCase();
    const earlier = touched.has(attribute);
    touched.add(attribute);
    if (earlier) return rewritten; // the stored state no longer tells what an earlier operation left
    if ((rewritten.op === "replace" || rewritten.op === "add") && !path.includes("[")) {
      // a sub-attribute of an absent complex attribute: the attribute is added holding it (§3.5.2.1)
      const parent = parentPath(path);
      const holder = parent === undefined ? undefined : valueAt(current, parent.path);
      // {} is the unassigned state too (RFC 7643 §2.5): scimmy finds no target in it either
      if (parent !== undefined && (holder === undefined || holder === null)) {
        return { op: "add", path: parent.path, value: { [parent.sub]: rewritten.value } };
      }
      // a sub-attribute of a single-valued complex attribute: scimmy finds no target when the object lacks
      // the sub-attribute it matches on (a manager holding only $ref), so the object is replaced whole
      if (parent !== undefined && isJsonObject(holder)) {
        const kept = Object.fromEntries(Object.entries(holder).filter(([k]) => k.toLowerCase() !== parent.sub.toLowerCase()));
        return { op: "replace", path: parent.path, value: { ...kept, [parent.sub]: rewritten.value } };
      }
      if (rewritten.op === "replace" && valueAt(current, path) === undefined) return { ...rewritten, op: "add" };
    }
    const filtered = rewritten.op === "remove" ? VALUE_FILTER.exec(path) : null;
    if (filtered) {
      const elements = valueAt(current, filtered[1]!);
      if (Array.isArray(elements) && selectsEvery(elements, filtered[2]!)) return { op: "remove", path: filtered[1] };
    }
    return rewritten;
  });
}
