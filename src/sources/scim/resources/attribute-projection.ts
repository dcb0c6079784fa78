// `attributes` and `excludedAttributes` (RFC 7643 §7, RFC 7644 §3.4.2.5) over a rendered resource.
// Done on the JSON here rather than by scimmy, whose projection throws on extension data.

const ALWAYS_RETURNED = new Set(["id", "schemas"]);

type Json = Record<string, unknown>;

interface Selector { readonly container: string | undefined; readonly attribute: string; readonly sub: string | undefined }

function parseSelector(raw: string, coreUrn: string): Selector {
  let container: string | undefined;
  let rest = raw;
  if (/^urn:/i.test(raw)) {
    const lower = raw.toLowerCase();
    if (lower.startsWith(`${coreUrn.toLowerCase()}:`)) rest = raw.slice(coreUrn.length + 1);
    else {
      // an extension URN alone selects the whole extension; URN:attr[.sub] selects inside it
      const cut = raw.lastIndexOf(":");
      const tail = raw.slice(cut + 1);
      if (/^[A-Z]/.test(tail) && !tail.includes(".")) return { container: undefined, attribute: raw, sub: undefined };
      container = raw.slice(0, cut);
      rest = tail;
    }
  }
  const [attribute = "", sub] = rest.split(".");
  return { container, attribute, sub };
}

function findKey(object: Json, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower);
}

function pick(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, sub)).filter((v) => v !== undefined);
  if (value && typeof value === "object") {
    const key = findKey(value as Json, sub);
    return key === undefined ? undefined : { [key]: (value as Json)[key] };
  }
  return undefined;
}

function merge(target: Json, key: string, value: unknown): void {
  const existing = target[key];
  if (existing && typeof existing === "object" && !Array.isArray(existing) && value && typeof value === "object" && !Array.isArray(value)) {
    target[key] = { ...(existing as Json), ...(value as Json) };
  } else if (Array.isArray(existing) && Array.isArray(value)) {
    target[key] = existing.map((e, i) => ({ ...(e as Json), ...(value[i] as Json) }));
  } else target[key] = value;
}

function include(resource: Json, selectors: Selector[]): Json {
  const out: Json = {};
  for (const key of Object.keys(resource)) if (ALWAYS_RETURNED.has(key)) out[key] = resource[key];
  for (const s of selectors) {
    const scope = s.container ? (resource[findKey(resource, s.container) ?? ""] as Json | undefined) : resource;
    if (!scope || typeof scope !== "object") continue;
    const key = findKey(scope, s.attribute);
    if (key === undefined) continue;
    const value = s.sub ? pick(scope[key], s.sub) : scope[key];
    if (value === undefined) continue;
    if (s.container) merge(out, findKey(resource, s.container)!, { [key]: value });
    else merge(out, key, value);
  }
  return out;
}

function exclude(resource: Json, selectors: Selector[]): Json {
  const out: Json = structuredClone(resource);
  for (const s of selectors) {
    const scope = s.container ? (out[findKey(out, s.container) ?? ""] as Json | undefined) : out;
    if (!scope || typeof scope !== "object") continue;
    const key = findKey(scope, s.attribute);
    if (key === undefined || (!s.container && ALWAYS_RETURNED.has(key))) continue;
    if (!s.sub) delete scope[key];
    else for (const element of [scope[key]].flat()) {
      const subKey = element && typeof element === "object" ? findKey(element as Json, s.sub) : undefined;
      if (subKey) delete (element as Json)[subKey];
    }
  }
  return out;
}

/** Applies attribute selection; `attributes` wins over `excludedAttributes` when both are given. */
export function projectAttributes(
  resource: Json, coreUrn: string, attributes?: readonly string[], excludedAttributes?: readonly string[],
): Json {
  if (attributes?.length) return include(resource, attributes.map((a) => parseSelector(a, coreUrn)));
  if (excludedAttributes?.length) return exclude(resource, excludedAttributes.map((a) => parseSelector(a, coreUrn)));
  return resource;
}
