// The query parameters of a SCIM read (RFC 7644 §3.4.2): filter, paging, sorting, attribute selection.
import { scimError } from "../scim-error.ts";

export interface ResourceQuery {
  readonly filter?: string;
  readonly startIndex: number;
  readonly count?: number;
  readonly sortBy?: string;
  readonly descending: boolean;
  readonly attributes?: readonly string[];
  readonly excludedAttributes?: readonly string[];
}

function whole(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value)) throw scimError(400, "invalidValue", `${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return value;
}

function attributeList(name: string, raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || raw.trim() === "") throw scimError(400, "invalidValue", `${name} must be a comma-separated list of attributes`);
  return raw.split(",").map((a) => a.trim()).filter(Boolean);
}

/** Parses the query string object; out-of-range paging is clamped as RFC 7644 §3.4.2.4 says. */
export function parseResourceQuery(query: Record<string, unknown>): ResourceQuery {
  const filter = query.filter;
  if (filter !== undefined && typeof filter !== "string") throw scimError(400, "invalidFilter", "filter must be given once, as a string");
  const sortOrder = query.sortOrder;
  if (sortOrder !== undefined && sortOrder !== "ascending" && sortOrder !== "descending") {
    throw scimError(400, "invalidValue", `sortOrder must be "ascending" or "descending"`);
  }
  const count = whole("count", query.count);
  return {
    filter,
    startIndex: Math.max(1, whole("startIndex", query.startIndex) ?? 1),
    count: count === undefined ? undefined : Math.max(0, count),
    sortBy: typeof query.sortBy === "string" && query.sortBy !== "" ? query.sortBy : undefined,
    descending: sortOrder === "descending",
    attributes: attributeList("attributes", query.attributes),
    excludedAttributes: attributeList("excludedAttributes", query.excludedAttributes),
  };
}

/** Whether an attribute list names `name` (case-insensitively, with or without the core URN). */
export function namesAttribute(list: readonly string[] | undefined, name: string): boolean {
  return (list ?? []).some((a) => {
    const bare = a.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, "").toLowerCase();
    return bare === name.toLowerCase() || bare.startsWith(`${name.toLowerCase()}.`);
  });
}
