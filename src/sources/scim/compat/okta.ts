// Okta's SCIM client: what it sends that idsync must not store or that a strict processor rejects.
// Source: okta/okta-developer-docs docs/reference/scim/scim-20/index.md (the Okta SCIM 2.0 reference).

type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const UNSTORED_USER_ATTRIBUTES = new Set(["password", "groups"]);
const READ_ONLY_KEYS = new Set(["id", "schemas", "meta"]);

const withoutKeys = (object: JsonObject, keys: ReadonlySet<string>): JsonObject =>
  Object.fromEntries(Object.entries(object).filter(([key]) => !keys.has(key.toLowerCase())));

// Okta: "Create the User" sends a placeholder `password` and read-only `groups: []`, PUT re-sends `groups` (Okta SCIM 2.0 reference).
/** A copy of a POST/PUT User body without `password` and `groups`; the input is not modified. */
export function dropOktaUnstoredUserAttributes(body: JsonObject): JsonObject {
  return withoutKeys(body, UNSTORED_USER_ATTRIBUTES);
}

// Okta: "Update a specific Group name" sends {"op":"replace","value":{"id":"<groupId>","displayName":"…"}} (Okta SCIM 2.0 reference).
/** A copy of a path-less PATCH operation whose value object lacks `id`, `schemas` and `meta`; other operations are returned as is. */
export function stripReadOnlyKeysFromPathlessValue(operation: JsonObject): JsonObject {
  const pathless = operation.path === undefined || operation.path === null || operation.path === "";
  if (!pathless || !isJsonObject(operation.value)) return operation;
  return { ...operation, value: withoutKeys(operation.value, READ_ONLY_KEYS) };
}
