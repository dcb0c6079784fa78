// Discovery documents (RFC 7644 §4) for /ResourceTypes, /ResourceTypes/{name}, /Schemas and /Schemas/{id}. User
// and Group come from scimmy's registry (so a schema change there shows here); Role and Entitlement
// are idsync's assignable catalogue (assignable-schemas.ts). Every `meta.location` these documents
// carry answers, and an unknown name is a 404 in SCIM's error form.
import { SCIMMY } from "scimmy-routers";
import { scimError } from "./scim-error.ts";
import { ASSIGNABLE_TYPES, describeResourceType, describeSchema } from "./assignable-schemas.ts";

type Json = Record<string, unknown>;

function resourceTypes(baseUrl: string): Json[] {
  const declared = Object.values(SCIMMY.Resources.declared() as Record<string, { describe(): object }>);
  return [
    ...declared.map((R) => ({ ...new SCIMMY.Schemas.ResourceType(R.describe() as never, `${baseUrl}/ResourceTypes`) }) as Json),
    ...ASSIGNABLE_TYPES.map((t) => describeResourceType(t, baseUrl)),
  ];
}

function schemas(baseUrl: string): Json[] {
  const declared = SCIMMY.Schemas.declared() as unknown as Array<{ describe(basepath: string): Json }>;
  return [...declared.map((d) => d.describe(`${baseUrl}/Schemas`)), ...ASSIGNABLE_TYPES.map((t) => describeSchema(t.schema, baseUrl))];
}

const listResponse = (resources: Json[]): Json =>
  ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

/** GET /ResourceTypes. */
export const listResourceTypes = (baseUrl: string): Json => listResponse(resourceTypes(baseUrl));

/** GET /ResourceTypes/{name}: by id, ignoring case. */
export function findResourceType(baseUrl: string, name: string): Json {
  const all = resourceTypes(baseUrl);
  const found = all.find((t) => String(t.id).toLowerCase() === name.toLowerCase());
  if (!found) throw scimError(404, null, `ResourceType ${name} not found (there are ${all.map((t) => t.id).join(", ")})`);
  return found;
}

/** GET /Schemas. */
export const listSchemas = (baseUrl: string): Json => listResponse(schemas(baseUrl));

/** GET /Schemas/{id}: by URN, ignoring case. */
export function findSchema(baseUrl: string, id: string): Json {
  const found = schemas(baseUrl).find((s) => String(s.id).toLowerCase() === id.toLowerCase());
  if (!found) throw scimError(404, null, `Schema ${id} not found`);
  return found;
}
