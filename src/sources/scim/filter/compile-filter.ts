// SCIM filter (RFC 7644 §3.4.2.2) → parameterized SQL. Parsed by scim2-parse-filter (a real grammar;
// scimmy's own tree mis-handles `not (A or B)`), then compiled here: every operator, logical
// combinations, value paths, extension URNs, case-insensitivity where the schema says caseExact false.
// A missing attribute makes a comparison NULL; in WHERE that already means "no match", and leaves stay
// bare so PostgreSQL can use the expression indexes (lower(user_name), …). Only NOT needs two-valued
// logic, so the negated expression is made two-valued there: not coalesce((…), false).
import { parse, type Filter, type Compare, type Suffix } from "scim2-parse-filter";
import { scimError } from "../scim-error.ts";
import { normaliseFilterExpression } from "../compat/normalise-request.ts";
import { escapeLike, joinFragments, sql, type SqlFragment } from "./sql-fragment.ts";
import {
  parseAttributePath, resolveAttribute,
  type AttributeTarget, type CollectionTarget, type ResourceSqlShape, type ScalarTarget,
} from "./resource-sql-shape.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

import { filterSyntaxReason } from "./filter-syntax-reason.ts";

const invalidFilter = (detail: string) => scimError(400, "invalidFilter", detail);

/** How deeply and/or/not/[] may nest: no IdP sends more than a few levels; thousands would overflow PostgreSQL's stack. */
export const MAX_FILTER_DEPTH = 64;
/** Comparisons in one filter: Okta and Entra send one or two; each is a bound parameter or more. */
export const MAX_FILTER_COMPARISONS = 100;
/**
 * Comparisons that look inside a multi-valued attribute (members, emails, groups …), each an EXISTS
 * subquery. PostgreSQL's planning time grows steeply with ANDed ones (measured on PostgreSQL 15:
 * 8 → 0.1 s, 32 → 1.9 s, 300 → 167 s for one query), and 159 made the embedded database's backend exit.
 */
export const MAX_FILTER_SUBQUERIES = 10;

/** Parses a filter string; a syntax error is a 400 invalidFilter naming the problem. */
export function parseFilter(expression: string): Filter {
  if (expression.trim() === "") throw invalidFilter("the filter is empty");
  let filter: Filter;
  try {
    filter = parse(normaliseFilterExpression(expression));
  } catch (error) {
    void error; // the parser's own message names its tokens, not the client's mistake
    throw invalidFilter(`the filter "${expression.slice(0, 200)}" is not valid SCIM filter syntax (RFC 7644 §3.4.2.2): ${filterSyntaxReason(expression)}`);
  }
  const { depth, comparisons } = measure(filter);
  if (depth > MAX_FILTER_DEPTH) throw invalidFilter(`the filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
  if (comparisons > MAX_FILTER_COMPARISONS) throw invalidFilter(`the filter makes more than ${MAX_FILTER_COMPARISONS} comparisons`);
  return filter;
}

/** The filter tree's depth and comparison count, walked without recursion (the tree may be thousands deep). */
function measure(root: Filter): { depth: number; comparisons: number } {
  let deepest = 0;
  let comparisons = 0;
  const stack: Array<[Filter, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_FILTER_DEPTH) break;
    if (node.op === "and" || node.op === "or") for (const child of node.filters) stack.push([child, depth + 1]);
    else if (node.op === "not") stack.push([node.filter, depth + 1]);
    else if (node.op === "[]") stack.push([node.valFilter, depth + 1]);
    else comparisons++;
  }
  return { depth: deepest, comparisons };
}

/** What one compilation has built so far, to hold it to the subquery limit. */
interface Compilation { readonly shape: ResourceSqlShape; subqueries: number }

/** Compiles a filter string to a WHERE fragment for the given resource shape. */
export function compileFilter(expression: string, shape: ResourceSqlShape): SqlFragment {
  return compileNode(parseFilter(expression), { shape, subqueries: 0 });
}

function compileNode(node: Filter | FusedValuePath, c: Compilation): SqlFragment {
  switch (node.op) {
    case "fused":
      return compileValuePath(node.attrPath, node.valFilter, node.then, c);
    case "and":
    case "or": {
      const parts = node.op === "and" ? mergeValuePaths(node.filters) : node.filters;
      return joinFragments(parts.map((f) => compileNode(f, c)), node.op === "and" ? " and " : " or ");
    }
    case "not":
      return negate(compileNode(node.filter, c));
    case "[]":
      return compileValuePath(node.attrPath, node.valFilter, undefined, c);
    default:
      return compileComparison(node, c);
  }
}

/**
 * `emails[type eq "work"].value eq "x"` parses as `emails[type eq "work"] and emails.value eq "x"`;
 * both conditions must hold for the same element, so the pair is fused back into one value path.
 */
interface FusedValuePath { op: "fused"; attrPath: string; valFilter: Filter; then: Compare | Suffix }
function mergeValuePaths(filters: Filter[]): Array<Filter | FusedValuePath> {
  const out: Array<Filter | FusedValuePath> = [];
  for (let i = 0; i < filters.length; i++) {
    const current = filters[i]!;
    const next = filters[i + 1];
    if (current.op === "[]" && next && "attrPath" in next && next.op !== "[]" &&
        next.attrPath.toLowerCase().startsWith(`${current.attrPath.toLowerCase()}.`)) {
      out.push({ op: "fused", attrPath: current.attrPath, valFilter: current.valFilter, then: next as Compare | Suffix });
      i++;
    } else out.push(current);
  }
  return out;
}

function compileValuePath(attrPath: string, valFilter: Filter, then: Compare | Suffix | undefined, c: Compilation): SqlFragment {
  const target = resolve(attrPath, c.shape);
  if (target.kind !== "collection") throw invalidFilter(`"${attrPath}[…]" needs a multi-valued attribute`);
  const conditions = [compileElementFilter(valFilter, target, attrPath)];
  if (then) {
    const sub = then.attrPath.slice(attrPath.length + 1);
    conditions.push(compileLeaf(then.op, elementScalar(target, sub, attrPath), "compValue" in then ? then.compValue : undefined, then.attrPath));
  }
  return existsIn(c, target, joinFragments(conditions, " and "));
}

function existsIn(c: Compilation, collection: CollectionTarget, condition: SqlFragment): SqlFragment {
  if (++c.subqueries > MAX_FILTER_SUBQUERIES) {
    throw invalidFilter(`the filter compares more than ${MAX_FILTER_SUBQUERIES} times inside multi-valued attributes (members, emails, groups …)`);
  }
  const where = collection.correlate ? `${collection.correlate} and ${condition.sql}` : condition.sql;
  return { sql: `exists (select 1 from ${collection.from} where ${where})`, bindings: condition.bindings };
}

/** A filter inside brackets: its attribute paths name sub-attributes of the element. */
function compileElementFilter(node: Filter, collection: CollectionTarget, parent: string): SqlFragment {
  switch (node.op) {
    case "and":
    case "or":
      return joinFragments(node.filters.map((f) => compileElementFilter(f, collection, parent)), ` ${node.op} `);
    case "not":
      return negate(compileElementFilter(node.filter, collection, parent));
    case "[]":
      throw invalidFilter(`value paths cannot nest inside "${parent}[…]"`);
    default:
      return compileLeaf(node.op, elementScalar(collection, node.attrPath, parent), "compValue" in node ? node.compValue : undefined, `${parent}.${node.attrPath}`);
  }
}

function elementScalar(collection: CollectionTarget, sub: string, parent: string): ScalarTarget {
  const scalar = collection.element(sub);
  if (!scalar) throw invalidFilter(`"${parent}" has no sub-attribute "${sub}"`);
  return scalar;
}

function resolve(attrPath: string, shape: ResourceSqlShape): AttributeTarget {
  try {
    return resolveAttribute(shape, parseAttributePath(attrPath));
  } catch {
    // scimmy's own message names its internals ("Schema definition … does not declare …"), not the rule
    throw invalidFilter(`unknown attribute "${attrPath}": /Schemas declares no such attribute for this resource type`);
  }
}

function compileComparison(node: Compare | Suffix, c: Compilation): SqlFragment {
  const target = resolve(node.attrPath, c.shape);
  const value = "compValue" in node ? node.compValue : undefined;
  switch (target.kind) {
    case "scalar":
      return compileLeaf(node.op, target, value, node.attrPath);
    case "collection": {
      // a multi-valued attribute matches when any element does (its `value` sub-attribute, or the element itself)
      const sub = parseAttributePath(node.attrPath).subAttribute ?? "value";
      return existsIn(c, target, compileLeaf(node.op, elementScalar(target, sub, node.attrPath), value, node.attrPath));
    }
    case "complex":
      if (node.op !== "pr") throw invalidFilter(`"${node.attrPath}" is complex: name one of its sub-attributes`);
      return sql(`(jsonb_typeof(${target.json}) = 'object' and ${target.json} <> '{}'::jsonb)`);
  }
}

function negate(inner: SqlFragment): SqlFragment {
  return { sql: `not coalesce((${inner.sql}), false)`, bindings: inner.bindings };
}

function compileLeaf(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  const fragment = leafSql(op, target, value, attrPath);
  return { sql: `(${fragment.sql})`, bindings: fragment.bindings };
}

const ORDERING: Record<string, string> = { gt: ">", ge: ">=", lt: "<", le: "<=" };

function leafSql(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  if (op === "pr") {
    if (target.json) return sql(`${target.json} is not null and ${target.json} <> 'null'::jsonb and ${target.json} <> '""'::jsonb`);
    return sql(`${target.sql} is not null`);
  }
  switch (target.type) {
    case "boolean":
      return booleanLeaf(op, target, value, attrPath);
    case "integer":
    case "decimal":
      return numberLeaf(op, target, value, attrPath);
    case "dateTime":
      return dateLeaf(op, target, value, attrPath);
    case "complex":
      throw invalidFilter(`"${attrPath}" is complex: name one of its sub-attributes`);
    default:
      return stringLeaf(op, target, value, attrPath);
  }
}

function stringLeaf(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  if (typeof value === "number") value = String(value);
  if (typeof value !== "string") throw invalidFilter(`"${attrPath}" is a string; compare it with a quoted value`);
  if (target.uuid && (op === "eq" || op === "ne")) {
    if (!UUID.test(value)) return sql(op === "eq" ? "false" : "true");
    return sql(op === "eq" ? `${target.sql} = ?::uuid` : `${target.sql} is distinct from ?::uuid`, value);
  }
  const column = target.uuid ? `${target.sql}::text` : target.sql;
  const fold = (s: string) => (target.caseExact ? s : `lower(${s})`);
  switch (op) {
    case "eq": return sql(`${fold(column)} = ${fold("?")}`, value);
    case "ne": return sql(`${fold(column)} is distinct from ${fold("?")}`, value);
    case "co": return sql(`${fold(column)} like ${fold("?")}`, `%${escapeLike(value)}%`);
    case "sw": return sql(`${fold(column)} like ${fold("?")}`, `${escapeLike(value)}%`);
    case "ew": return sql(`${fold(column)} like ${fold("?")}`, `%${escapeLike(value)}`);
    default: return sql(`${fold(column)} ${ORDERING[op]} ${fold("?")}`, value);
  }
}

function booleanLeaf(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  const bool = typeof value === "string" && /^(true|false)$/i.test(value) ? value.toLowerCase() === "true" : value;
  if (typeof bool !== "boolean") throw invalidFilter(`"${attrPath}" is a boolean; compare it with true or false`);
  if (op !== "eq" && op !== "ne") throw invalidFilter(`"${op}" does not apply to the boolean "${attrPath}"`);
  const expression = target.json ? `(${target.json} = ?::jsonb)` : `(${target.sql} = ?)`;
  const binding = target.json ? JSON.stringify(bool) : bool;
  return sql(op === "eq" ? expression : `not coalesce(${expression}, false)`, binding);
}

function numberLeaf(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  if (typeof value !== "number") throw invalidFilter(`"${attrPath}" is a number; compare it with a number`);
  if (["co", "sw", "ew"].includes(op)) throw invalidFilter(`"${op}" does not apply to the number "${attrPath}"`);
  const number = target.json ? `(case when jsonb_typeof(${target.json}) = 'number' then (${target.json})::numeric end)` : target.sql;
  if (op === "ne") return sql(`${number} is distinct from ?`, value);
  return sql(`${number} ${op === "eq" ? "=" : ORDERING[op]} ?`, value);
}

/** A timestamptz column as responses render it (render-resource.ts: toISOString, UTC, milliseconds). */
const renderedInstant = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function dateLeaf(op: string, target: ScalarTarget, value: unknown, attrPath: string): SqlFragment {
  // co/sw/ew match the text a client sees ("2024-05" sw), so the value need not be a whole date
  if (["co", "sw", "ew"].includes(op)) {
    const text = target.json ? target.sql : renderedInstant(target.sql);
    return stringLeaf(op, { ...target, sql: text, type: "string" }, value, attrPath);
  }
  if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw invalidFilter(`"${attrPath}" is a dateTime; compare it with a quoted ISO 8601 date`);
  const instant = target.json ? `(case when ${target.sql} ~ '^\\d{4}-\\d{2}-\\d{2}' then (${target.sql})::timestamptz end)` : target.sql;
  const iso = new Date(value).toISOString();
  if (op === "ne") return sql(`${instant} is distinct from ?::timestamptz`, iso);
  return sql(`${instant} ${op === "eq" ? "=" : ORDERING[op]} ?::timestamptz`, iso);
}

/** An ORDER BY expression for `sortBy`, or a 400 invalidFilter when the attribute cannot be sorted on. */
export function compileSortBy(attrPath: string, shape: ResourceSqlShape): string {
  const target = resolve(attrPath, shape);
  const scalar = target.kind === "collection" ? undefined : target.kind === "scalar" ? target : undefined;
  if (!scalar) throw invalidFilter(`cannot sort by the multi-valued or complex attribute "${attrPath}"`);
  return scalar.caseExact || scalar.type !== "string" ? scalar.sql : `lower(${scalar.sql})`;
}
