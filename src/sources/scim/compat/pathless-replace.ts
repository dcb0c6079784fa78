// RFC 7644 §3.5.2.3: a "replace" without a path replaces each attribute named in its value, so a
// multi-valued attribute (emails, phoneNumbers, addresses…) takes exactly the values sent. scimmy 1.3.5
// appends them instead, leaving the old address beside the new one (and two "primary" emails). Sending
// each multi-valued attribute as its own "replace" with that attribute as the path gets RFC behaviour.
type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** One pathless replace becomes itself (without its arrays) plus one pathed replace per multi-valued attribute. */
export function splitPathlessMultiValuedReplace(operation: unknown): unknown[] {
  if (!isJsonObject(operation) || operation.op !== "replace" || operation.path !== undefined || !isJsonObject(operation.value)) return [operation];
  const arrays = Object.entries(operation.value).filter(([, v]) => Array.isArray(v));
  if (arrays.length === 0) return [operation];
  const rest = Object.fromEntries(Object.entries(operation.value).filter(([, v]) => !Array.isArray(v)));
  return [
    ...(Object.keys(rest).length > 0 ? [{ ...operation, value: rest }] : []),
    ...arrays.map(([path, value]) => ({ op: "replace", path, value })),
  ];
}
