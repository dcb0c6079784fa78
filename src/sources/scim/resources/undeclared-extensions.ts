// Extension schemas that /Schemas does not declare (RFC 7643 §3.3: a resource's `schemas` names its
// extensions; a client may send a vendor's). scimmy drops what its definitions do not name, so these are
// taken out of a body before scimmy sees it, kept as sent, and put back into the stored document; PATCH
// operations that target them are applied here. Pure: plain JSON in, plain JSON out.
import { URN } from "../schemas.ts";
import { scimError } from "../scim-error.ts";

type Json = Record<string, unknown>;
export type ResourceKind = "User" | "Group";
/** Undeclared extensions by URN (as the client spelled it), each an object of attributes. */
export type UndeclaredExtensions = Record<string, Json>;

const DECLARED: Record<ResourceKind, readonly string[]> = {
  User: [URN.user, URN.enterprise, URN.idsync],
  Group: [URN.group],
};

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const withoutSchemas = (value: Json): Json => Object.fromEntries(Object.entries(value).filter(([key]) => key.toLowerCase() !== "schemas"));

/** Whether a key or path is URN-qualified with a schema /Schemas does not declare for this resource type. */
export function isUndeclaredUrn(key: string, kind: ResourceKind): boolean {
  const lower = key.toLowerCase();
  return lower.startsWith("urn:") && !DECLARED[kind].some((urn) => lower === urn.toLowerCase() || lower.startsWith(`${urn.toLowerCase()}:`));
}

interface Target { readonly urn: string; readonly attribute: readonly string[] }

/**
 * Where a URN-qualified key points: a URN already known (from `schemas` or the stored extensions) wins;
 * otherwise an object value under a key whose last segment starts upper-case (`…:2.0:User`) is a whole
 * extension, and anything else is `<urn>:<attribute>[.<sub>]`.
 */
function targetOf(key: string, known: readonly string[], value: unknown): Target {
  const lower = key.toLowerCase();
  const urn = known.find((k) => lower === k.toLowerCase()) ?? known.find((k) => lower.startsWith(`${k.toLowerCase()}:`));
  if (urn !== undefined) return { urn, attribute: key.length === urn.length ? [] : key.slice(urn.length + 1).split(".") };
  const cut = key.lastIndexOf(":");
  const last = key.slice(cut + 1);
  if (isObject(value) && /^[A-Z]/.test(last) && !last.includes(".")) return { urn: key, attribute: [] };
  return { urn: key.slice(0, cut), attribute: last.split(".") };
}

function setAt(extensions: UndeclaredExtensions, target: Target, value: unknown, merge: boolean): void {
  if (target.attribute.length === 0) {
    if (!isObject(value)) throw scimError(400, "invalidValue", `${target.urn}: an extension's value must be an object of its attributes`);
    const existing = extensions[target.urn];
    extensions[target.urn] = merge && existing ? mergeInto(existing, withoutSchemas(value)) : withoutSchemas(value);
    return;
  }
  let container = (extensions[target.urn] ??= {});
  for (const name of target.attribute.slice(0, -1)) {
    const next = container[name];
    container = isObject(next) ? next : (container[name] = {}) as Json;
  }
  const leaf = target.attribute[target.attribute.length - 1]!;
  const existing = container[leaf];
  container[leaf] = merge && Array.isArray(existing) && Array.isArray(value) ? [...existing, ...value]
    : merge && isObject(existing) && isObject(value) ? mergeInto(existing, value) : value;
}

/** RFC 7644 §3.5.2.1 add: attributes of `value` set on `target`, multi-valued ones appended. */
function mergeInto(target: Json, value: Json): Json {
  const out = { ...target };
  for (const [key, entry] of Object.entries(value)) {
    const existing = out[key];
    out[key] = Array.isArray(existing) && Array.isArray(entry) ? [...existing, ...entry] : entry;
  }
  return out;
}

function removeAt(extensions: UndeclaredExtensions, target: Target): void {
  if (target.attribute.length === 0) {
    delete extensions[target.urn];
    return;
  }
  let container: unknown = extensions[target.urn];
  for (const name of target.attribute.slice(0, -1)) {
    if (!isObject(container)) return;
    container = container[name];
  }
  if (isObject(container)) delete container[target.attribute[target.attribute.length - 1]!];
  if (Object.keys(extensions[target.urn] ?? {}).length === 0) delete extensions[target.urn];
}

/**
 * A POST/PUT body without its undeclared extensions, and those extensions. `schemas` entries name the
 * URNs; a URN-qualified attribute key (`urn:…:User:costCenter`) is folded into its extension's object.
 */
export function splitUndeclaredExtensions(body: Json, kind: ResourceKind): { body: Json; extensions: UndeclaredExtensions } {
  const listed = (Array.isArray(body.schemas) ? body.schemas : []).filter((s): s is string => typeof s === "string" && isUndeclaredUrn(s, kind));
  const rest: Json = {};
  const extensions: UndeclaredExtensions = {};
  for (const [key, value] of Object.entries(body)) {
    if (!isUndeclaredUrn(key, kind)) rest[key] = value;
    else if (value !== null) setAt(extensions, targetOf(key, [...listed, ...Object.keys(extensions)], value), value, true);
  }
  return { body: rest, extensions };
}

/** The undeclared extensions a stored or rendered resource holds. */
export function undeclaredExtensionsOf(resource: Json, kind: ResourceKind): UndeclaredExtensions {
  return Object.fromEntries(Object.entries(resource).filter(([key, value]) => isUndeclaredUrn(key, kind) && isObject(value))) as UndeclaredExtensions;
}

/**
 * A validated document with the undeclared extensions put back; `schemas` lists exactly the extensions
 * present (an undeclared URN without data is not kept, so a misspelt declared URN leaves no trace).
 */
export function withUndeclaredExtensions(document: Json, extensions: UndeclaredExtensions, kind: ResourceKind): Json {
  const present = Object.keys(extensions).filter((urn) => Object.keys(extensions[urn]!).length > 0);
  const listed = (Array.isArray(document.schemas) ? (document.schemas as unknown[]) : []).filter((s) => typeof s !== "string" || !isUndeclaredUrn(s, kind));
  // key order kept (schemas where it was, extensions last), so an unchanged resource serialises the same
  const out: Json = Object.fromEntries(Object.entries(document).filter(([key]) => !isUndeclaredUrn(key, kind)));
  out.schemas = [...listed, ...present];
  for (const urn of present) out[urn] = extensions[urn];
  return out;
}

export interface PatchOperationJson { readonly op: string; readonly path?: string; readonly value?: unknown }

/**
 * Applies the operations (ops already lower-cased) that touch undeclared extensions to `extensions` and
 * returns the others, in order, for the declared schemas' PatchOp. A path-less value loses its
 * undeclared keys (each applied as its own operation); it is dropped when nothing else is left in it.
 */
export function applyUndeclaredOperations(
  operations: readonly unknown[], current: UndeclaredExtensions, kind: ResourceKind,
): { operations: unknown[]; extensions: UndeclaredExtensions; touched: boolean } {
  const extensions: UndeclaredExtensions = structuredClone(current);
  const remaining: unknown[] = [];
  let touched = false;
  const apply = (op: string, path: string, value: unknown, index: number): void => {
    if (/[[\]]/.test(path)) {
      throw scimError(400, "invalidPath", `operation ${index}: "${path}": value filters are not supported inside an extension /Schemas does not declare`);
    }
    touched = true;
    const target = targetOf(path, Object.keys(extensions), value);
    if (op === "remove") return removeAt(extensions, target);
    if (value === undefined) throw scimError(400, "invalidValue", `operation ${index}: ${op} needs a value`);
    setAt(extensions, target, value, op === "add");
  };
  operations.forEach((operation, i) => {
    const { op, path, value } = (operation ?? {}) as PatchOperationJson;
    if (typeof op !== "string") return void remaining.push(operation);
    if (typeof path === "string" && path !== "") {
      if (isUndeclaredUrn(path, kind)) apply(op, path, value, i + 1);
      else remaining.push(operation);
      return;
    }
    if (!isObject(value) || op === "remove") return void remaining.push(operation);
    const undeclared = Object.entries(value).filter(([key]) => isUndeclaredUrn(key, kind));
    for (const [key, inner] of undeclared) apply(op, key, inner, i + 1);
    const rest = Object.fromEntries(Object.entries(value).filter(([key]) => !isUndeclaredUrn(key, kind)));
    if (undeclared.length === 0 || Object.keys(rest).length > 0) remaining.push(undeclared.length === 0 ? operation : { ...(operation as Json), value: rest });
  });
  return { operations: remaining, extensions, touched };
}
