// What an account's members can be given, published for IdPs that assign it (Okta Identity
// Governance, per Okta's "Build a SCIM 2.0 server with entitlements" guide; the IETF draft
// draft-ietf-scim-roles-entitlements is the same idea): Roles (Owner, Admin, Member) and
// Entitlements (read or write on each sending domain). Okta knows these two schemas by their Okta
// URNs, so those are the ids. scimmy only accepts urn:ietf schema ids, so these are plain RFC 7643 §7
// documents served beside scimmy's.

export const ROLE_URN = "urn:okta:scim:schemas:core:1.0:Role";
export const ENTITLEMENT_URN = "urn:okta:scim:schemas:core:1.0:Entitlement";

/** One attribute of a schema document (RFC 7643 §7). */
export interface SchemaAttribute {
  readonly name: string;
  readonly type: "string";
  readonly multiValued: false;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: false;
  readonly mutability: "readOnly";
  readonly returned: "default";
  readonly uniqueness: "server" | "none";
}

export interface AssignableSchema {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly SchemaAttribute[];
}

const attribute = (name: string, description: string, required = false, uniqueness: "server" | "none" = "none"): SchemaAttribute =>
  ({ name, type: "string", multiValued: false, description, required, caseExact: false, mutability: "readOnly", returned: "default", uniqueness });

export const ROLE_SCHEMA: AssignableSchema = {
  id: ROLE_URN,
  name: "Role",
  description: "A Postscale account role a user can be given by the User's roles attribute",
  attributes: [
    attribute("value", "The role as a User's roles[].value names it (owner, admin or member; the same as id)", true, "server"),
    attribute("displayName", "Owner, Admin or Member", true),
    attribute("description", "What the role may do"),
  ],
};

export const ENTITLEMENT_SCHEMA: AssignableSchema = {
  id: ENTITLEMENT_URN,
  name: "Entitlement",
  description: "Access to one sending domain, given by the User's entitlements attribute",
  attributes: [
    attribute("value", "<domain>:read or <domain>:write, as a User's entitlements[].value names it (the same as id)", true, "server"),
    attribute("displayName", "The same as value", true),
    attribute("type", "Always \"Domain access\""),
    attribute("description", "What the entitlement gives"),
  ],
};

export interface AssignableType {
  readonly id: "Role" | "Entitlement";
  readonly endpoint: "/Roles" | "/Entitlements";
  readonly description: string;
  readonly schema: AssignableSchema;
}

export const ASSIGNABLE_TYPES: readonly AssignableType[] = [
  { id: "Role", endpoint: "/Roles", description: "The roles a member of this account can hold: Owner, Admin, Member", schema: ROLE_SCHEMA },
  { id: "Entitlement", endpoint: "/Entitlements", description: "Read or write access to each sending domain of this account", schema: ENTITLEMENT_SCHEMA },
];

/** A schema document as /Schemas serves it. */
export function describeSchema(schema: AssignableSchema, baseUrl: string): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    id: schema.id, name: schema.name, description: schema.description,
    attributes: schema.attributes,
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

/** A resource type document as /ResourceTypes serves it. */
export function describeResourceType(type: AssignableType, baseUrl: string): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: type.id, name: type.id, description: type.description, endpoint: type.endpoint, schema: type.schema.id,
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${type.id}` },
  };
}
