// scimmy reports a value that does not fit a schema, and a PatchOp it cannot apply, in its own words
// ("Attribute 'active' expected value type 'boolean' but found type 'string' in schema extension '…'").
// A SCIM client deserves the attribute's full path and the rule it broke, in idsync's words: this turns
// the first into the second. Anything unrecognised becomes a generic detail rather than leaking through.

const TYPE_NAMES: Record<string, string> = {
  string: "a string", boolean: "a boolean (true or false)", integer: "an integer", decimal: "a decimal number",
  dateTime: "a dateTime (RFC 3339, e.g. 2026-01-31T09:30:00Z)", reference: "a URI reference", binary: "base64-encoded binary",
  complex: "an object", number: "a number", object: "an object", collection: "an array", null: "null",
};
const typeName = (type: string): string => TYPE_NAMES[type] ?? `a ${type}`;

type Rule = readonly [RegExp, (attribute: string, ...rest: string[]) => string];

/** scimmy's attribute-level messages: the attribute's own name first, then the rule. */
const ATTRIBUTE_RULES: readonly Rule[] = [
  [/^Attribute '([^']+)' expected value type '(\w+)' but found type '(\w+)'$/, (_a, want, got) => `must be ${typeName(want)}, not ${typeName(got)}`],
  [/^Attribute '([^']+)' expected single value of type '(\w+)'$/, (_a, want) => `takes a single value (${typeName(want)}), not an array`],
  [/^Attribute '([^']+)' expected to be a collection$/, () => "is multi-valued: send an array"],
  [/^Attribute '([^']+)' is not multi-valued and must not be a collection$/, () => "is single-valued: send one value, not an array"],
  [/^Required attribute '([^']+)' is missing$/, () => "is required"],
  [/^Attribute '([^']+)' expected value to be a valid date$/, () => `must be ${typeName("dateTime")}`],
  [/^Attribute '([^']+)' expected value type 'reference' to refer to one of: (.*)$/, (_a, kinds) => `must be a URI reference (${kinds.replaceAll("'", "")})`],
  [/^Attribute '([^']+)' expected value type 'binary' to be base64 encoded string or binary octet stream$/, () => "must be base64-encoded binary"],
  [/^Attribute '([^']+)' with type 'reference' does not specify any referenceTypes$/, () => "cannot be written"],
  [/^Complex attribute '([^']+)' expected complex value but found type '(\w+)'$/, (_a, got) => `must be an object (or an array of objects), not ${typeName(got)}`],
  [/^Missing values for required schema extension '([^']+)'$/, () => "is required"],
];

/** PatchOp-level messages, after the operation suffix is taken off. */
const PATCH_RULES: ReadonlyArray<readonly [RegExp, (...parts: string[]) => string]> = [
  [/^Invalid path '(.*)'$/s, (path) => `"${path}" is not an attribute of this resource in /Schemas`],
  [/^Invalid attribute path '(.*)' in supplied value$/s, (path) => `"${path}" in the value is not an attribute of this resource in /Schemas`],
  [/^Filter '(.*)' does not match any values$/s, (path) => `"${path}" matches no value (noTarget)`],
  [/^Attribute 'value' must be an object when 'path' is empty$/, () => "a PATCH without a path needs an object value"],
];

const OPERATION_SUFFIX = / for '(add|remove|replace)' op of operation (\d+) in PatchOp request body$/;
const EXTENSION_SUFFIX = / in schema extension '([^']+)'$/;
const PARENT_SUFFIX = / from complex attribute '([^']+)'$/;

/** idsync's detail for a scimmy message, or undefined when the message is not one of scimmy's. */
export function describeSchemaFault(message: string): string | undefined {
  let rest = message;
  let operation: string | undefined;
  let extension: string | undefined;
  const parents: string[] = [];
  for (let changed = true; changed;) {
    changed = false;
    const op = OPERATION_SUFFIX.exec(rest);
    if (op) [rest, operation, changed] = [rest.slice(0, op.index), op[2], true];
    const ext = EXTENSION_SUFFIX.exec(rest);
    if (ext) [rest, extension, changed] = [rest.slice(0, ext.index), ext[1], true];
    const parent = PARENT_SUFFIX.exec(rest);
    if (parent) {
      // appended from the inside out: the last suffix names the outermost attribute
      parents.push(parent[1]!);
      [rest, changed] = [rest.slice(0, parent.index), true];
    }
  }
  const prefix = operation === undefined ? "" : `operation ${operation}: `;
  for (const [pattern, rule] of ATTRIBUTE_RULES) {
    const match = pattern.exec(rest);
    if (!match) continue;
    const [, attribute = "", ...captures] = match;
    // scimmy names an extension by its URN as the "attribute" when the extension as a whole is missing
    const dotted = [...parents, attribute].filter((name) => name !== extension).join(".");
    const path = extension === undefined ? dotted : dotted === "" ? extension : `${extension}:${dotted}`;
    return `${prefix}${path}: ${rule(attribute, ...captures)}`;
  }
  if (operation !== undefined) {
    for (const [pattern, rule] of PATCH_RULES) {
      const match = pattern.exec(rest);
      if (match) return `${prefix}${rule(...match.slice(1))}`;
    }
    // a PatchOp failure in words we do not know (an engine message among them): say which operation
    return `${prefix}the operation cannot be applied to this resource as /Schemas describes it`;
  }
  return undefined;
}
