// Entra: Add/Replace on `attr[type eq "x"].sub` when the resource has no `x` element yet expects the element
// to be created (Captain-P-Goldfish/SCIM-SDK#416, thomaspoignant/scim-patch#176 and #187, the validator
// payload in sourcegraph/sourcegraph-public-snapshot#49119); an RFC-strict PatchOp answers 400 noTarget.

type JsonObject = Record<string, unknown>;

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const CORE_USER_PREFIX = "urn:ietf:params:scim:schemas:core:2.0:user:";

// attr[type eq "x"] or attr[type eq "x"].sub; `x` quoted (with \" escapes) or a bare word.
const TYPED_ELEMENT_PATH = /^([^\s"[\]]+)\[\s*type\s+eq\s+(?:"((?:[^"\\]|\\.)*)"|([^\s"\]]+))\s*\](?:\.([A-Za-z$][\w$-]*))?$/i;

interface TypedElementPath {
  readonly attribute: string;
  readonly type: string;
  readonly subAttribute: string | undefined;
}

function parseTypedElementPath(path: string): TypedElementPath | undefined {
  const match = TYPED_ELEMENT_PATH.exec(path.trim());
  if (!match) return undefined;
  const [, attribute = "", quoted, bare, subAttribute] = match;
  try {
    const type = quoted === undefined ? (bare ?? "") : (JSON.parse(`"${quoted}"`) as string);
    return { attribute, type, subAttribute };
  } catch {
    return undefined; // an invalid escape: leave the operation for the validator to reject
  }
}

const attributeKey = (attribute: string): string => {
  const lower = attribute.toLowerCase();
  return lower.startsWith(CORE_USER_PREFIX) ? lower.slice(CORE_USER_PREFIX.length) : lower;
};

/** Lower-cased `type` values of the elements of `current[attribute]` (attribute names compared case-insensitively). */
function elementTypesOf(current: unknown, key: string): Set<string> {
  if (!isJsonObject(current)) return new Set();
  const elements = Object.entries(current).find(([name]) => name.toLowerCase() === key)?.[1];
  if (!Array.isArray(elements)) return new Set();
  return new Set(
    elements.flatMap((element) => (isJsonObject(element) && typeof element.type === "string" ? [element.type.toLowerCase()] : [])),
  );
}

function newElement(target: TypedElementPath, value: unknown): JsonObject | undefined {
  if (target.subAttribute !== undefined) return { type: target.type, [target.subAttribute]: value };
  if (!isJsonObject(value)) return undefined;
  const rest = Object.entries(value).filter(([key]) => key.toLowerCase() !== "type");
  return { type: target.type, ...Object.fromEntries(rest) };
}

// Entra: {"op":"Add","path":"emails[type eq \"home\"].value","value":"x"} creates the home email (Captain-P-Goldfish/SCIM-SDK#416).
/**
 * Rewrites each `add`/`replace` (any case) on `attr[type eq "x"]` or `attr[type eq "x"].sub` whose element does not
 * exist in `current` (a plain JSON resource; `type` compared case-insensitively) into
 * `{op: "add", path: attr, value: [{type: "x", sub: value}]}`. An element created by an earlier rewrite in the same list
 * counts as existing, so later operations on it are left for PatchOp to apply in order. Every other operation is
 * returned unchanged; neither the operations nor `current` are modified.
 */
export function rewriteTypedElementUpserts(operations: readonly unknown[], current: unknown): unknown[] {
  const typesByAttribute = new Map<string, Set<string>>();
  const typesOf = (attribute: string): Set<string> => {
    const key = attributeKey(attribute);
    let types = typesByAttribute.get(key);
    if (types === undefined) typesByAttribute.set(key, (types = elementTypesOf(current, key)));
    return types;
  };
  return operations.map((operation) => {
    if (!isJsonObject(operation) || typeof operation.op !== "string" || typeof operation.path !== "string") return operation;
    const op = operation.op.toLowerCase();
    if (op !== "add" && op !== "replace") return operation;
    const target = parseTypedElementPath(operation.path);
    if (target === undefined) return operation;
    const types = typesOf(target.attribute);
    if (types.has(target.type.toLowerCase())) return operation;
    const element = newElement(target, operation.value);
    if (element === undefined) return operation;
    types.add(target.type.toLowerCase());
    return { op: "add", path: target.attribute, value: [element] };
  });
}
