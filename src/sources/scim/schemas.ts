// The SCIM schemas idsync serves: core User and Group, the enterprise extension, and the idsync
// extension that carries a role and domain grants as attributes (for attribute-based mapping rules).
// scimmy keeps schemas and resources in process-global registries, so they are declared exactly once.
import { SCIMMY } from "scimmy-routers";

export const URN = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  enterprise: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
  idsync: "urn:ietf:params:scim:schemas:extension:idsync:2.0:User",
  listResponse: "urn:ietf:params:scim:api:messages:2.0:ListResponse",
  patchOp: "urn:ietf:params:scim:api:messages:2.0:PatchOp",
  error: "urn:ietf:params:scim:api:messages:2.0:Error",
} as const;

const { Attribute, SchemaDefinition } = SCIMMY.Types;

export const IdsyncUserExtension = new SchemaDefinition("IdsyncUser", URN.idsync,
  "Postscale access carried by the IdP: a role and per-domain grants, read by idsync's mapping rules", [
    new Attribute("string", "role", {
      canonicalValues: ["owner", "admin", "member"],
      description: "The Postscale role the IdP asks for.",
    }),
    new Attribute("complex", "domainGrants", { multiValued: true, description: "Per sending-domain access." }, [
      new Attribute("string", "domain", { required: true, description: "A sending domain, or a pattern such as *.example.com." }),
      new Attribute("string", "access", { canonicalValues: ["read", "write"], description: "read or write." }),
    ]),
  ]);

let declared = false;

/**
 * Declares the User and Group resource classes with scimmy (once per process) and sets the service
 * provider configuration discovery reports.
 */
export function declareScimResources(User: typeof SCIMMY.Resources.User, Group: typeof SCIMMY.Resources.Group): void {
  if (declared) return;
  declared = true;
  // RFC 7643 lists type values as SHOULD; Entra and Okta send "Work", "untyped" and others
  for (const path of ["emails.type", "phoneNumbers.type", "addresses.type", "ims.type", "photos.type", "roles.type", "entitlements.type"]) {
    (SCIMMY.Schemas.User.definition.attribute(path) as unknown as { config: { canonicalValues: unknown } }).config.canonicalValues = false;
  }
  // displayName is unique per connection (ignoring case): Okta's group push and Entra match groups by it
  (SCIMMY.Schemas.Group.definition.attribute("displayName") as unknown as { config: { uniqueness: unknown } }).config.uniqueness = "server";
  SCIMMY.Resources.declare(User, { extensions: [{ schema: SCIMMY.Schemas.EnterpriseUser }, { schema: IdsyncUserExtension }] } as never);
  SCIMMY.Resources.declare(Group, {} as never);
}

/** Applied after scimmy-routers is constructed, which forces bulk support on in the global config. */
export function configureServiceProvider(maxResults: number): void {
  SCIMMY.Config.set({
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: false },
  } as never);
}
