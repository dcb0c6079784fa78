// `GET /Users?filter=userName eq "x"` and its kin (externalId, id; a group's displayName): the lookup
// Okta and Entra make before every create. Recognised here and answered by a statement of its own
// (findIdpUsersBy, findIdpGroupsBy) whose plan cannot go wrong without statistics, instead of the
// general filtered list. Anything else — another attribute or operator, a URN-qualified name, a
// value with escapes, sortBy — takes the general path, which answers the same, planned less surely.

const EQUALITY = /^\s*([A-Za-z]+)\s+eq\s+"([^"\\]*)"\s*$/i;

export interface EqualityLookup<Attribute extends string> {
  readonly attribute: Attribute;
  readonly value: string;
}

/**
 * The attribute and value of a filter that is exactly `<attribute> eq "<value>"` for one of
 * `attributes` (names matched ignoring case, as SCIM does); undefined otherwise. A non-UUID `id` is
 * returned too: callers answer it with no match, as the filter compiler does.
 */
export function equalityLookup<Attribute extends string>(filter: string | undefined, attributes: readonly Attribute[]): EqualityLookup<Attribute> | undefined {
  if (filter === undefined) return undefined;
  const match = EQUALITY.exec(filter);
  if (!match) return undefined;
  const attribute = attributes.find((a) => a.toLowerCase() === match[1]!.toLowerCase());
  return attribute === undefined ? undefined : { attribute, value: match[2]! };
}

/** One page of a lookup's matches, as startIndex and count ask (the matches are few: sliced here). */
export function lookupPage<Row>(matches: readonly Row[], startIndex: number, limit: number): { rows: Row[]; total: number } {
  return { rows: matches.slice(startIndex - 1, startIndex - 1 + limit), total: matches.length };
}
