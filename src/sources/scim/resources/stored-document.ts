// Between SCIM JSON and the snapshot: the document we store for a resource (as sent, validated and
// normalised, without id and meta) and the indexed facts taken from it.
import type { IdpUserFields } from "../../../snapshot/idp-users.ts";
import type { IdpGroupFields } from "../../../snapshot/idp-groups.ts";
import { scimError } from "../scim-error.ts";
import { withoutReadOnlyAttributes } from "./read-only-attributes.ts";

type Json = Record<string, unknown>;

/** A scimmy schema instance as plain JSON, without the server-owned id and meta (and never a password). */
export function storedDocument(instance: object): Json {
  const { id: _id, meta: _meta, password: _password, groups: _groups, members: _members, ...rest } = JSON.parse(JSON.stringify(instance)) as Json;
  return rest;
}

interface SchemaClass {
  readonly definition: { readonly id: string; coerce(data: object, direction: "in"): object };
}

/**
 * Validates and coerces a request body with scimmy's schema definition: the checks a scimmy Schema
 * instance makes (types, required, canonical values, extensions, and that `schemas` names this
 * resource's schema), without building the instance's accessors — about 4× cheaper per write. readOnly
 * attributes the body carried are dropped (RFC 7644 §3.5.1: ignored).
 */
export function validatedDocument(schema: SchemaClass, body: Record<string, unknown>): Json {
  const { schemas } = body;
  if (Array.isArray(schemas) && schemas.length > 0 && !schemas.includes(schema.definition.id)) {
    throw scimError(400, "invalidSyntax", `the body's schemas do not include ${schema.definition.id}`);
  }
  return withoutReadOnlyAttributes(storedDocument(schema.definition.coerce(body, "in")), schema.definition);
}

function primaryEmail(document: Json): string | null {
  const emails = Array.isArray(document.emails) ? (document.emails as Json[]) : [];
  const chosen = emails.find((e) => e.primary === true) ?? emails.find((e) => String(e.type).toLowerCase() === "work") ?? emails[0];
  return typeof chosen?.value === "string" ? chosen.value : null;
}

function displayNameOf(document: Json): string | null {
  if (typeof document.displayName === "string") return document.displayName;
  const name = document.name as Json | undefined;
  if (typeof name?.formatted === "string") return name.formatted;
  const parts = [name?.givenName, name?.familyName].filter((p) => typeof p === "string");
  return parts.length ? parts.join(" ") : null;
}

export function userFields(document: Json): IdpUserFields {
  return {
    userName: String(document.userName),
    externalId: typeof document.externalId === "string" ? document.externalId : null,
    displayName: displayNameOf(document),
    email: primaryEmail(document),
    // RFC 7643 leaves the default open; every IdP treats a user it provisions as active
    active: document.active !== false,
    resource: { ...document, active: document.active !== false },
  };
}

export function groupFields(document: Json): IdpGroupFields {
  return {
    displayName: String(document.displayName),
    externalId: typeof document.externalId === "string" ? document.externalId : null,
    resource: document,
  };
}
