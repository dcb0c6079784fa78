// RFC 7644 §3.5.2: a PATCH may target a whole extension by its schema URN, and independent testers send
// the value as a resource fragment that carries its own `schemas` ({"path": "urn:…:enterprise:2.0:User",
// "value": {"schemas": [...], "employeeNumber": "43"}}). `schemas` is not an attribute of an extension;
// scimmy's frozen extension object then fails with an engine message. It is dropped from such values.

type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);
const isUrn = (key: string): boolean => key.toLowerCase().startsWith("urn:");
const withoutSchemas = (value: JsonObject): JsonObject => Object.fromEntries(Object.entries(value).filter(([key]) => key.toLowerCase() !== "schemas"));

/** The operation with `schemas` removed from object values addressed by an extension URN (as the path or a path-less key). */
export function dropSchemasFromExtensionValues(operation: JsonObject): JsonObject {
  if (!isJsonObject(operation.value)) return operation;
  if (typeof operation.path === "string" && operation.path !== "") {
    return isUrn(operation.path) ? { ...operation, value: withoutSchemas(operation.value) } : operation;
  }
  const value = Object.fromEntries(Object.entries(operation.value).map(([key, entry]) => [key, isUrn(key) && isJsonObject(entry) ? withoutSchemas(entry) : entry]));
  return { ...operation, value };
}
