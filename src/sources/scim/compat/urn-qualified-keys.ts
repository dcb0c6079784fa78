// RFC 7644 §3.10: an attribute may be named by its schema URN and name, e.g.
// "urn:ietf:params:scim:schemas:core:2.0:User:title". PATCH paths resolve that form already; a POST or
// PUT body may use it as a key too, and must then mean the same attribute — not be dropped as unknown.
// Core keys become plain keys; keys qualified by idsync's declared extensions move into the extension's
// object. Where both spellings of one attribute are sent, the plain one wins (it is what a client sees
// returned). A sub-attribute ("…:User:name.givenName") goes into its complex attribute.
import type { ResourceType } from "./entra.ts";

type JsonObject = Record<string, unknown>;

const CORE: Record<ResourceType, string> = {
  User: "urn:ietf:params:scim:schemas:core:2.0:User",
  Group: "urn:ietf:params:scim:schemas:core:2.0:Group",
};
const EXTENSIONS: Record<ResourceType, readonly string[]> = {
  User: ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:extension:idsync:2.0:User"],
  Group: [],
};

const isJsonObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** `value` set at `path` ("a" or "a.b") of `target`, unless that spot is already taken. */
function place(target: JsonObject, path: string, value: unknown): void {
  const [attribute, sub] = path.split(".", 2) as [string, string | undefined];
  const existing = Object.keys(target).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (sub === undefined) {
    if (existing === undefined) target[attribute] = value;
    return;
  }
  const holder = existing === undefined ? attribute : existing;
  const complex = isJsonObject(target[holder]) ? { ...(target[holder] as JsonObject) } : existing === undefined ? {} : null;
  if (complex === null) return; // the plain attribute was sent, and is not complex: it wins
  if (!Object.keys(complex).some((k) => k.toLowerCase() === sub.toLowerCase())) complex[sub] = value;
  target[holder] = complex;
}

export function unqualifyUrnKeys(body: JsonObject, resourceType: ResourceType): JsonObject {
  const qualified = Object.keys(body).filter((key) => key.includes(":") && key.toLowerCase().startsWith("urn:"));
  if (qualified.length === 0) return body;
  const out: JsonObject = { ...body };
  const core = CORE[resourceType].toLowerCase() + ":";
  for (const key of qualified) {
    const lower = key.toLowerCase();
    if (lower.startsWith(core) && key.length > core.length) {
      delete out[key];
      place(out, key.slice(core.length), body[key]);
      continue;
    }
    const extension = EXTENSIONS[resourceType].find((urn) => lower.startsWith(urn.toLowerCase() + ":"));
    if (extension && key.length > extension.length + 1) {
      delete out[key];
      const holder = Object.keys(out).find((k) => k.toLowerCase() === extension.toLowerCase()) ?? extension;
      const object = isJsonObject(out[holder]) ? { ...(out[holder] as JsonObject) } : {};
      place(object, key.slice(extension.length + 1), body[key]);
      out[holder] = object;
      const schemas = Array.isArray(out.schemas) ? (out.schemas as unknown[]) : null;
      if (schemas && !schemas.some((s) => typeof s === "string" && s.toLowerCase() === extension.toLowerCase())) out.schemas = [...schemas, extension];
    }
  }
  return out;
}
