// /Roles and /Entitlements: read-only lists of what this account can assign (see assignable-schemas.ts).
// Each is a derived table in SQL, so filters, sorting and paging go through the same compiler and
// list query as /Users and /Groups: Roles are the three account roles, Entitlements read and write
// on each of the account's sending domains.
import type { ScimContext } from "../scim-context.ts";
import { scimError } from "../scim-error.ts";
import { compileFilter, compileSortBy } from "../filter/compile-filter.ts";
import type { AttributeFacts, AttributePath, ResourceSqlShape, ScalarTarget } from "../filter/resource-sql-shape.ts";
import { ENTITLEMENT_SCHEMA, ROLE_SCHEMA, type AssignableSchema } from "../assignable-schemas.ts";
import { projectAttributes } from "./attribute-projection.ts";
import { guarded, pagedListResponse, pageSize, type ResourceRequest } from "./resource-request.ts";
import { listPage } from "../../../snapshot/connection-scope.ts";

type Json = Record<string, unknown>;

interface AssignableRow {
  id: string;
  display_name: string;
  type: string | null;
  description: string;
}

const ROLE_DESCRIPTIONS = {
  owner: "Owns the account; there is exactly one, and assigning it transfers ownership from the current owner (through Admin)",
  admin: "Manages the account and sees every sending domain",
  member: "Uses the sending domains its entitlements give",
} as const;

/** The three roles for every connection; `created_at` only orders them Owner, Admin, Member. */
const ROLES_TABLE = `(select c.id as connection_id, null::timestamptz as deleted_at, r.id, r.display_name, null::text as type, r.description,
    timestamptz 'epoch' + r.ord * interval '1 second' as created_at,
    jsonb_build_object('value', r.id, 'displayName', r.display_name, 'description', r.description) as resource
  from directory_connections c cross join (values
    ('owner', 'Owner', 1, '${ROLE_DESCRIPTIONS.owner}'), ('admin', 'Admin', 2, '${ROLE_DESCRIPTIONS.admin}'), ('member', 'Member', 3, '${ROLE_DESCRIPTIONS.member}')
  ) as r(id, display_name, ord, description))`;

/** Read and write on each sending domain of the connection's account. */
const ENTITLEMENTS_TABLE = `(select c.id as connection_id, null::timestamptz as deleted_at, x.id, x.id as display_name, 'Domain access' as type, x.description,
    d.created_at, jsonb_build_object('value', x.id, 'displayName', x.id, 'type', 'Domain access', 'description', x.description) as resource
  from directory_connections c join sending_domains d on d.account_id = c.account_id
  cross join lateral (values (d.name || ':read', 'Read access to ' || d.name), (d.name || ':write', 'Write access to ' || d.name)) as x(id, description))`;

const text = (sql: string): ScalarTarget => ({ kind: "scalar", sql, type: "string", caseExact: false });

/** Attribute facts from a plain schema document: every attribute is a single-valued string. */
function schemaFacts(schema: AssignableSchema) {
  return (path: AttributePath): { top: AttributeFacts; leaf: AttributeFacts } => {
    if (path.urn !== undefined && path.urn.toLowerCase() !== schema.id.toLowerCase()) throw new Error(`${schema.name} has no extension ${path.urn}`);
    const name = path.attribute.toLowerCase();
    const found = name === "id" ? "id" : schema.attributes.find((a) => a.name.toLowerCase() === name)?.name;
    if (found === undefined || path.subAttribute !== undefined) throw new Error(`${schema.name} has no attribute ${path.attribute}${path.subAttribute ? `.${path.subAttribute}` : ""}`);
    const facts: AttributeFacts = { name: found, type: "string", caseExact: false, multiValued: false, subAttributes: [] };
    return { top: facts, leaf: facts };
  };
}

function shapeOf(schema: AssignableSchema): ResourceSqlShape {
  return {
    facts: schemaFacts(schema),
    coreUrn: schema.id,
    document: "r.resource",
    columns: { id: text("r.id"), value: text("r.id"), displayname: text("r.display_name"), type: text("r.type"), description: text("r.description") },
    relations: {},
  };
}

interface AssignableKind {
  readonly schema: AssignableSchema;
  readonly resourceType: "Role" | "Entitlement";
  readonly endpoint: "Roles" | "Entitlements";
  readonly table: string;
  readonly shape: ResourceSqlShape;
}

const KINDS = {
  Roles: { schema: ROLE_SCHEMA, resourceType: "Role", endpoint: "Roles", table: ROLES_TABLE, shape: shapeOf(ROLE_SCHEMA) },
  Entitlements: { schema: ENTITLEMENT_SCHEMA, resourceType: "Entitlement", endpoint: "Entitlements", table: ENTITLEMENTS_TABLE, shape: shapeOf(ENTITLEMENT_SCHEMA) },
} as const satisfies Record<string, AssignableKind>;

export type AssignableEndpoint = keyof typeof KINDS;

function render(kind: AssignableKind, row: AssignableRow, baseUrl: string): Json {
  return {
    schemas: [kind.schema.id],
    id: row.id,
    value: row.id,
    displayName: row.display_name,
    ...(row.type !== null ? { type: row.type } : {}),
    description: row.description,
    meta: { resourceType: kind.resourceType, location: `${baseUrl}/${kind.endpoint}/${encodeURIComponent(row.id)}` },
  };
}

const COLUMNS = "r.id, r.display_name, r.type, r.description";

/** GET /Roles, /Entitlements (filter, sortBy, startIndex, count, attributes) and GET /Roles/{id}. */
export function readAssignable(endpoint: AssignableEndpoint, request: ResourceRequest, ctx: ScimContext): Promise<Json> {
  const kind: AssignableKind = KINDS[endpoint];
  return guarded(ctx, async () => {
    const { query } = request;
    const project = (row: AssignableRow) => projectAttributes(render(kind, row, ctx.baseUrl), kind.schema.id, query.attributes, query.excludedAttributes);
    if (request.id !== undefined) {
      const { rows } = await listPage<AssignableRow>(ctx.db, kind.table, "r", COLUMNS, ctx.scope,
        { where: { sql: "lower(r.id) = lower(?)", bindings: [request.id] }, offset: 0, limit: 1 });
      if (rows.length === 0) throw scimError(404, null, `${kind.resourceType} ${request.id} not found`);
      return project(rows[0]!);
    }
    const { rows, total } = await listPage<AssignableRow>(ctx.db, kind.table, "r", COLUMNS, ctx.scope, {
      where: query.filter === undefined ? undefined : compileFilter(query.filter, kind.shape),
      orderBy: query.sortBy === undefined ? undefined : compileSortBy(query.sortBy, kind.shape),
      descending: query.descending,
      offset: query.startIndex - 1,
      limit: pageSize(query, ctx.maxPageSize),
    });
    return pagedListResponse(rows.map(project), total, query.startIndex) as Json;
  });
}
