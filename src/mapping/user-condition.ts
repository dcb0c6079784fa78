// A rule's SCIM filter, evaluated over an IdP user's stored resource. Mapping is pure, so this runs
// in memory over plain data; scim2-parse-filter's Tester walks the tree (paths, value paths, URNs)
// and this subclass makes string comparisons case-insensitive, as SCIM's caseExact=false says.
import { parse, Tester, type Filter } from "scim2-parse-filter";

const fold = (v: unknown): unknown => (typeof v === "string" ? v.toLowerCase() : v);

/** The library's walk with SCIM's case-insensitive comparisons (the reference the faster walk below must match). */
export class CaseInsensitiveTester extends Tester {
  override eq(r: unknown, v: unknown): boolean { return fold(r) === fold(v); }
  override ne(r: unknown, v: unknown): boolean { return fold(r) !== fold(v); }
  override co(r: unknown, v: unknown): boolean { return typeof r === "string" && typeof v === "string" && r.toLowerCase().includes(v.toLowerCase()); }
  override sw(r: unknown, v: unknown): boolean { return typeof r === "string" && typeof v === "string" && r.toLowerCase().startsWith(v.toLowerCase()); }
  override ew(r: unknown, v: unknown): boolean { return typeof r === "string" && typeof v === "string" && r.toLowerCase().endsWith(v.toLowerCase()); }
  override pr(r: unknown): boolean { return r !== undefined && r !== null && r !== "" && !(Array.isArray(r) && r.length === 0); }
}

class FastTester extends CaseInsensitiveTester {

  // The walk as the library's, without its allocations: a rule's filter is tested against every user of
  // the account (100,000), and the library splits the path and lists each object's keys on every test.
  private readonly paths = new Map<string, string[]>();
  override attrPath(path: string): string[] {
    let split = this.paths.get(path);
    if (!split) {
      split = super.attrPath(path).map((part) => part.toLowerCase());
      this.paths.set(path, split);
    }
    return split;
  }

  override attrTest(path: string[], r: unknown, op: (r: unknown) => boolean): boolean {
    return this.walk(path, 0, r, op);
  }

  private walk(path: string[], at: number, r: unknown, op: (r: unknown) => boolean): boolean {
    if (at === path.length) return op(r);
    if (typeof r !== "object" || r === null) return false;
    if (Array.isArray(r)) return r.some((item) => this.walk(path, at, item, op));
    const wanted = path[at]!;
    // the first key in Object.keys order that matches, ignoring case, as the library picks it
    for (const key in r) {
      if (Object.hasOwn(r, key) && key.toLowerCase() === wanted) return this.walk(path, at + 1, (r as Record<string, unknown>)[key], op);
    }
    return false;
  }
}

const tester = new FastTester();

export type UserCondition = (resource: Record<string, unknown>) => boolean;

/** The top-level attribute names (lower-cased) a filter reads, as the walk finds them in a resource. */
export function attributesRead(expression: string): Set<string> {
  const names = new Set<string>();
  const visit = (f: Filter): void => {
    if (f.op === "and" || f.op === "or") (f as { filters: Filter[] }).filters.forEach(visit);
    else if (f.op === "not") visit((f as { filter: Filter }).filter);
    else names.add(tester.attrPath((f as { attrPath: string }).attrPath)[0]!);
  };
  visit(parse(expression));
  return names;
}

/** Parses a filter into a predicate (values must be quoted); throws with the parser's reason when invalid. */
export function parseUserCondition(expression: string): UserCondition {
  let filter: Filter;
  try {
    filter = parse(expression);
  } catch (error) {
    throw new Error(`the filter "${expression}" is not valid SCIM filter syntax (${(error as Error).message})`);
  }
  return (resource) => tester.test(resource, filter);
}
