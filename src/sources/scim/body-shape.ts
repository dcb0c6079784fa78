// What a parsed SCIM body may not hold, checked before anything walks it recursively (scimmy's coercion,
// our normalisers, the database's jsonb): U+0000, which no PostgreSQL text can store, and nesting deeper
// than MAX_BODY_DEPTH. Iterative, so a body nested 100,000 levels costs a loop, not the stack.

/**
 * The deepest nesting a SCIM body may have: objects and arrays count one level each (the body itself is
 * level 1). The deepest SCIM resource in RFC 7643 is 4 (a User → addresses → element → value); 64 leaves
 * room for extensions that /Schemas does not declare and are stored as sent.
 */
export const MAX_BODY_DEPTH = 64;

export type BodyFault = { kind: "nul" } | { kind: "tooDeep"; depth: number };

/** The first fault in a parsed JSON value, or undefined. */
export function bodyFault(body: unknown, maxDepth = MAX_BODY_DEPTH): BodyFault | undefined {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 1 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) return { kind: "nul" };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth > maxDepth) return { kind: "tooDeep", depth };
    if (Array.isArray(value)) {
      for (const element of value) pending.push({ value: element, depth: depth + 1 });
      continue;
    }
    for (const [key, entry] of Object.entries(value)) {
      if (key.includes("\u0000")) return { kind: "nul" };
      pending.push({ value: entry, depth: depth + 1 });
    }
  }
  return undefined;
}
