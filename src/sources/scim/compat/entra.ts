// Microsoft Entra ID's provisioning service: what it sends that an RFC-strict processor (scimmy) rejects.
// Sources: MicrosoftDocs/entra-docs use-scim-to-provision-users-and-groups.md ("Entra doc") and
// application-provisioning-config-problem-scim-compatibility.md ("compat doc"); issue threads as named.

import { normaliseBareValue, rewriteComparisonValues, tokenizeFilter } from "./filter-expression.ts";

export type ResourceType = "User" | "Group";
type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const IDSYNC_USER = "urn:ietf:params:scim:schemas:extension:idsync:2.0:User";
const MANAGER_PATH = `${ENTERPRISE_USER}:manager`;
const KNOWN_SCHEMAS: Record<ResourceType, readonly string[]> = {
  User: [CORE_USER, ENTERPRISE_USER, IDSYNC_USER],
  Group: [CORE_GROUP],
};
const BOOLEAN_ATTRIBUTES = new Set(["active", "primary"]);
const STRING_BOOLEAN = /^(?:true|false)$/i;
const QUOTED_BOOLEAN = /^"(?:true|false)"$/i;

/** Keeps the entries `keep` accepts, at every depth of objects and arrays; returns new containers. */
function pruneEntries(value: unknown, keep: (key: string, entry: unknown) => boolean): unknown {
  if (Array.isArray(value)) return value.map((element) => pruneEntries(element, keep));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, entry]) => keep(key, entry))
      .map(([key, entry]) => [key, pruneEntries(entry, keep)]),
  );
}

/** The last attribute name of a path: `emails[type eq "work"].primary` → `primary`, `urn:…:User:active` → `active`. */
function attributeNameOf(path: string): string {
  let depth = 0;
  let outside = "";
  for (const token of tokenizeFilter(path)) {
    if (token.kind === "openBracket") depth += 1;
    else if (token.kind === "closeBracket") depth -= 1;
    else if (depth === 0) outside += token.text;
  }
  const afterUrn = outside.slice(outside.lastIndexOf(":") + 1);
  return afterUrn.slice(afterUrn.lastIndexOf(".") + 1).toLowerCase();
}

// Entra: "Don't require a case-sensitive match on … op" — ops arrive as Add/Replace/Remove (Entra doc, "Update User").
/** The operation with `op` lower-cased; an operation without a string `op` is returned as is. */
export function lowercaseOperationName(operation: JsonObject): JsonObject {
  return typeof operation.op === "string" ? { ...operation, op: operation.op.toLowerCase() } : operation;
}

// Entra: {"op":"Replace","path":"active","value":"False"} without ?aadOptscim062020 (compat doc; scimmyjs/scimmy#51, #86).
/** `value` with "True"/"False" (any case) turned into booleans wherever it sits under `active` or `primary`. */
export function coerceStringBooleans(value: unknown, attributePath = ""): unknown {
  if (typeof value === "string") {
    const isBoolean = BOOLEAN_ATTRIBUTES.has(attributeNameOf(attributePath)) && STRING_BOOLEAN.test(value);
    return isBoolean ? value.toLowerCase() === "true" : value;
  }
  if (Array.isArray(value)) return value.map((element) => coerceStringBooleans(element, attributePath));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, coerceStringBooleans(entry, key)]));
}

// Entra: the compat doc's "False" string boolean, guarded in POST/PUT bodies too (defensive: no source shows it there).
/** A copy of a POST/PUT body with "True"/"False" under `active`/`primary` turned into booleans. */
export function coerceBodyStringBooleans(body: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(body).map(([key, entry]) => [key, coerceStringBooleans(entry, key)]));
}

// Entra: "value":"False" for path `active`, path-less {active:"False"}, `primary` in element lists (compat doc; scimmyjs/scimmy#51).
/** The operation with its value's string booleans coerced, judged by the operation's path. */
export function coerceOperationStringBooleans(operation: JsonObject): JsonObject {
  if (!("value" in operation)) return operation;
  const path = typeof operation.path === "string" ? operation.path : "";
  return { ...operation, value: coerceStringBooleans(operation.value, path) };
}

// Entra: app-role mappings patch `roles[primary eq "True"].value` (lightdash/lightdash#25676).
/** A PATCH path whose value filter compares `active`/`primary` with a boolean literal instead of "True"/"False"; bare words are quoted. */
export function normalisePathFilter(path: string): string {
  return rewriteComparisonValues(path, (value, attribute) => {
    if (value.kind === "word") return normaliseBareValue(value.text);
    const isQuotedBoolean = QUOTED_BOOLEAN.test(value.text) && BOOLEAN_ATTRIBUTES.has(attributeNameOf(attribute));
    return isQuotedBoolean ? value.text.slice(1, -1).toLowerCase() : value.text;
  });
}

// Entra: `roles[primary eq "True"].value` as an operation path (lightdash/lightdash#25676).
/** The operation with its path's value filter normalised by `normalisePathFilter`. */
export function normaliseOperationPathFilter(operation: JsonObject): JsonObject {
  if (typeof operation.path !== "string" || !operation.path.includes("[")) return operation;
  return { ...operation, path: normalisePathFilter(operation.path) };
}

// Entra: Example 2 POST /Users sends "addresses":null, "title":null, "manager":null … (Entra doc, "Provision a user").
/** A copy of a POST/PUT body without attributes whose value is null, at any depth. */
export function dropNullAttributes(body: JsonObject): JsonObject {
  return pruneEntries(body, (_key, entry) => entry !== null) as JsonObject;
}

// Entra: Example 2 lists "…:extension:enterprise:2.0User"; Create Group lists an ADSCIM URI (Entra doc).
/**
 * A copy of a POST/PUT body whose `schemas` keeps only the URNs idsync knows for `resourceType` (canonical case),
 * without top-level keys that are unknown schema URNs; URN-qualified attribute keys of a known schema stay.
 */
export function dropUnknownSchemaUrns(body: JsonObject, resourceType: ResourceType): JsonObject {
  const known = KNOWN_SCHEMAS[resourceType];
  const canonical = (urn: string): string | undefined => known.find((k) => k.toLowerCase() === urn.toLowerCase());
  const isUnknownUrnKey = (key: string): boolean => {
    const lower = key.toLowerCase();
    return lower.startsWith("urn:") && !known.some((k) => lower === k.toLowerCase() || lower.startsWith(`${k.toLowerCase()}:`));
  };
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "schemas" && Array.isArray(value)) {
      result[key] = value.flatMap((urn) => (typeof urn === "string" && canonical(urn) ? [canonical(urn)] : []));
    } else if (!isUnknownUrnKey(key)) {
      result[canonical(key) ?? key] = value;
    }
  }
  return result;
}

// Entra: Example 5 {"op":"Add","path":"manager","value":[{"$ref":"…","value":"<id>"}]}; the enterprise path with a plain id (Entra doc; scimmy 1.3.5 answers a string manager 400 invalidPath).
/** A manager operation on the enterprise `…:User:manager` path with value `{value: "<id>"}`; other operations as is. */
export function normaliseManagerOperation(operation: JsonObject): JsonObject {
  if (typeof operation.path !== "string") return operation;
  const path = operation.path.toLowerCase();
  if (path !== "manager" && path !== MANAGER_PATH.toLowerCase()) return operation;
  if (!("value" in operation)) return { ...operation, path: MANAGER_PATH };
  return { ...operation, path: MANAGER_PATH, value: toManagerValue(operation.value) };
}

function toManagerValue(value: unknown): unknown {
  if (typeof value === "string") return { value };
  const [only, ...rest] = Array.isArray(value) ? value : [];
  if (rest.length === 0 && isJsonObject(only) && typeof only.value === "string") return { value: only.value };
  return value;
}

// Entra: Update Group [Add Members]/[Remove Members] send [{"$ref":null,"value":"<id>"}] (Entra doc; scimmyjs/scimmy#34).
/** The operation with every `"$ref": null` entry removed from its value. */
export function dropNullReferences(operation: JsonObject): JsonObject {
  if (!("value" in operation)) return operation;
  return { ...operation, value: pruneEntries(operation.value, (key, entry) => !(key === "$ref" && entry === null)) };
}
