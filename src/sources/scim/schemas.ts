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

type ScimAttribute = InstanceType<typeof Attribute>;
type AttributeList = Array<ScimAttribute | object>;
type AttributeInternals = ScimAttribute & { config: Record<string, unknown>; subAttributes?: ScimAttribute[] };

const advertisedValues = new WeakMap<object, readonly unknown[]>();

/** An attribute that publishes its canonical values in /Schemas without refusing other values. */
class AdvisedCanonicalAttribute extends Attribute {
  override toJSON(): ReturnType<ScimAttribute["toJSON"]> {
    const values = advertisedValues.get(this);
    return { ...super.toJSON(), ...(values?.length ? { canonicalValues: values } : {}) } as ReturnType<ScimAttribute["toJSON"]>;
  }
}

/**
 * RFC 7643 §2.3.1 and §7: canonical values are suggestions a service provider may publish, and clients send
 * others (Entra's roles[].type "WindowsAzureActiveDirectoryRole", Okta's "Work"). scimmy refuses any value
 * outside the list, so every attribute with one is swapped, in place, for a copy that advertises the list
 * and accepts every value of the attribute's type; an empty list (core roles.type, x509Certificates.type)
 * advertises nothing.
 */
function adviseCanonicalValues(attributes: AttributeList): void {
  attributes.forEach((candidate, index) => {
    if (!(candidate instanceof Attribute)) return;
    const attribute = candidate as AttributeInternals;
    if (attribute.subAttributes) adviseCanonicalValues(attribute.subAttributes);
    const values = attribute.config.canonicalValues;
    if (!Array.isArray(values)) return;
    const relaxed = new AdvisedCanonicalAttribute(attribute.type as never, attribute.name, { ...attribute.config, canonicalValues: false } as never,
      (attribute.subAttributes ?? []) as never);
    advertisedValues.set(relaxed, [...values]);
    attributes[index] = relaxed;
  });
}

let declared = false;

/**
 * Declares the User and Group resource classes with scimmy (once per process) and sets the service
 * provider configuration discovery reports.
 */
export function declareScimResources(User: typeof SCIMMY.Resources.User, Group: typeof SCIMMY.Resources.Group): void {
  if (declared) return;
  declared = true;
  for (const definition of [SCIMMY.Schemas.User.definition, SCIMMY.Schemas.EnterpriseUser.definition, SCIMMY.Schemas.Group.definition, IdsyncUserExtension]) {
    adviseCanonicalValues(definition.attributes as unknown as AttributeList);
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
