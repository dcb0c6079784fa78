// How a SCIM resource type lies in SQL: which attributes are indexed columns, where the stored JSON
// is, and how multi-valued attributes become rows. Attribute metadata (type, caseExact, multiValued)
// comes from scimmy's schema definitions, so each rule lives in one place: the schema.
import { sqlLiteral } from "./sql-fragment.ts";

export type AttributeType = "string" | "boolean" | "decimal" | "integer" | "dateTime" | "reference" | "binary" | "complex";

/** One scalar SQL expression a comparison can be made against. */
export interface ScalarTarget {
  readonly kind: "scalar";
  /** SQL yielding text for strings and dateTimes held in JSON, or the column's own type. */
  readonly sql: string;
  readonly type: AttributeType;
  readonly caseExact: boolean;
  /** jsonb source, for type checks of numbers; absent for columns. */
  readonly json?: string;
  /** A uuid column: `eq` with a non-uuid value matches nothing instead of erroring. */
  readonly uuid?: boolean;
}

/** A multi-valued attribute: rows of `from` (alias `e`), each element's sub-attributes as scalars. */
export interface CollectionTarget {
  readonly kind: "collection";
  readonly from: string;
  /** Ties the rows to the outer resource, for collections kept in their own table. */
  readonly correlate?: string;
  readonly element: (subAttribute: string | undefined) => ScalarTarget | undefined;
}

/** A complex single-valued attribute named without a sub-attribute: only `pr` applies. */
export interface ComplexTarget {
  readonly kind: "complex";
  readonly json: string;
}

export type AttributeTarget = ScalarTarget | CollectionTarget | ComplexTarget;

/** The facts about one attribute the compiler needs, from the schema definition. */
export interface AttributeFacts {
  readonly name: string;
  readonly type: AttributeType;
  readonly caseExact: boolean;
  readonly multiValued: boolean;
  readonly subAttributes: readonly AttributeFacts[];
}

/** A parsed attribute path: an optional extension URN, the attribute, an optional sub-attribute. */
export interface AttributePath {
  readonly urn: string | undefined;
  readonly attribute: string;
  readonly subAttribute: string | undefined;
}

export interface ResourceSqlShape {
  /** Resolves an attribute path to facts, or throws (unknown attribute). */
  facts(path: AttributePath): { top: AttributeFacts; leaf: AttributeFacts };
  /** Indexed columns by lower-cased core path (`username`, `meta.created`). */
  readonly columns: Readonly<Record<string, ScalarTarget>>;
  /** Collections not held in the JSON document (e.g. group members in their own table). */
  readonly relations: Readonly<Record<string, CollectionTarget>>;
  /** The jsonb column holding the stored resource. */
  readonly document: string;
  readonly coreUrn: string;
}

export function parseAttributePath(path: string): AttributePath {
  let urn: string | undefined;
  let rest = path;
  if (/^urn:/i.test(path)) {
    const cut = path.lastIndexOf(":");
    urn = path.slice(0, cut);
    rest = path.slice(cut + 1);
  }
  const [attribute = "", subAttribute, ...extra] = rest.split(".");
  if (!attribute || extra.length > 0) throw new Error(`invalid attribute path "${path}"`);
  return { urn, attribute, subAttribute };
}

function jsonText(json: string, key: string): string {
  return `(${json} ->> ${sqlLiteral(key)})`;
}

function scalarFromJson(json: string, key: string, facts: AttributeFacts): ScalarTarget {
  return { kind: "scalar", sql: jsonText(json, key), json: `(${json} -> ${sqlLiteral(key)})`, type: facts.type, caseExact: facts.caseExact };
}

/** Resolves a path to the SQL it is compared against; throws on attributes the schema does not declare. */
export function resolveAttribute(shape: ResourceSqlShape, path: AttributePath): AttributeTarget {
  const isCore = path.urn === undefined || path.urn.toLowerCase() === shape.coreUrn.toLowerCase();
  const { top, leaf } = shape.facts(path);
  if (isCore) {
    const key = (path.subAttribute ? `${top.name}.${leaf.name}` : top.name).toLowerCase();
    const column = shape.columns[key];
    if (column) return column;
    const relation = shape.relations[top.name.toLowerCase()];
    if (relation) return relation;
  }
  const container = isCore ? shape.document : `(${shape.document} -> ${sqlLiteral(path.urn!)})`;
  if (top.multiValued) return jsonCollection(`(${container} -> ${sqlLiteral(top.name)})`, top);
  if (path.subAttribute) return scalarFromJson(`(${container} -> ${sqlLiteral(top.name)})`, leaf.name, leaf);
  if (top.type === "complex") return { kind: "complex", json: `(${container} -> ${sqlLiteral(top.name)})` };
  return scalarFromJson(container, top.name, top);
}

/** Elements of a JSON array attribute as rows `e(v)`; a missing or non-array value is no rows. */
function jsonCollection(json: string, top: AttributeFacts): CollectionTarget {
  const rows = `jsonb_array_elements(case when jsonb_typeof(${json}) = 'array' then ${json} else '[]'::jsonb end) as e(v)`;
  return {
    kind: "collection",
    from: rows,
    element(sub) {
      if (top.type !== "complex") return { kind: "scalar", sql: `(e.v #>> '{}')`, json: "e.v", type: top.type, caseExact: top.caseExact };
      const name = sub ?? "value";
      const facts = top.subAttributes.find((a) => a.name.toLowerCase() === name.toLowerCase());
      return facts ? scalarFromJson("e.v", facts.name, facts) : undefined;
    },
  };
}
