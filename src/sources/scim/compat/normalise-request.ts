// The one place where the Okta and Entra dialects are composed into what an RFC 7643/7644-strict processor
// (scimmy) accepts. Quirks and their sources: Microsoft's "Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID" and the
// Entra SCIM compatibility notes (application-provisioning-config-problem-scim-compatibility), and Okta's SCIM 2.0 reference (developer.okta.com/docs/reference/scim/scim-20).

import {
  coerceBodyStringBooleans,
  coerceOperationStringBooleans,
  dropNullAttributes,
  dropNullReferences,
  dropUnknownSchemaUrns,
  lowercaseOperationName,
  normaliseManagerOperation,
  normaliseOperationPathFilter,
  type ResourceType,
} from "./entra.ts";
import { dropOktaUnstoredUserAttributes, stripReadOnlyKeysFromPathlessValue } from "./okta.ts";
import { splitPathlessMultiValuedReplace } from "./pathless-replace.ts";
import { dropSchemasFromExtensionValues } from "./extension-value.ts";
import { unqualifyUrnKeys } from "./urn-qualified-keys.ts";

export { normaliseFilterExpression } from "./filter-expression.ts";
export { rewriteTypedElementUpserts } from "./typed-element-upsert.ts";
export { rewriteForRfcTargets } from "./patch-targets.ts";
export type { ResourceType } from "./entra.ts";

type JsonObject = Record<string, unknown>;
type BodyStep = (body: JsonObject, resourceType: ResourceType) => JsonObject;
type OperationStep = (operation: JsonObject) => JsonObject;

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const BODY_STEPS: Record<ResourceType, readonly BodyStep[]> = {
  User: [
    unqualifyUrnKeys, // RFC 7644 §3.10: "urn:…:core:2.0:User:title" is "title"
    dropUnknownSchemaUrns, // Entra Example 2: "…enterprise:2.0User"
    dropNullAttributes, // Entra Example 2: "title": null, "manager": null
    coerceBodyStringBooleans, // Entra: "active": "True"
    dropOktaUnstoredUserAttributes, // Okta: placeholder "password", read-only "groups": []
  ],
  Group: [
    unqualifyUrnKeys, // RFC 7644 §3.10: "urn:…:core:2.0:Group:displayName" is "displayName"
    dropUnknownSchemaUrns, // Entra Create Group: ADSCIM schema URI
    dropNullAttributes, // Entra: explicit nulls
  ],
};

const OPERATION_STEPS: Record<ResourceType, readonly OperationStep[]> = {
  User: [
    lowercaseOperationName, // Entra: "Replace"
    normaliseOperationPathFilter, // Entra: roles[primary eq "True"].value
    normaliseManagerOperation, // Entra Example 5 / plain-string manager id
    coerceOperationStringBooleans, // Entra: "value": "False"
    stripReadOnlyKeysFromPathlessValue, // Okta: {"id", "active": false}
    dropNullReferences, // Entra: "$ref": null
    dropSchemasFromExtensionValues, // testers: {"path": "urn:…:enterprise:2.0:User", "value": {"schemas": […], …}}
  ],
  Group: [
    lowercaseOperationName, // Entra: "Add" / "Remove" / "Replace"
    normaliseOperationPathFilter, // Entra/Okta: members[value eq …]
    stripReadOnlyKeysFromPathlessValue, // Okta Group rename: {"id", "displayName"}
    dropNullReferences, // Entra Add/Remove Members: [{"$ref": null, "value"}]
  ],
};

// Okta + Entra POST/PUT bodies (the Entra doc's "Provision a user"/"Create Group" examples; Okta's reference, "Create the User", "Update a specific User").
/**
 * A normalised copy of a POST/PUT body for `resourceType`; the input is never modified. A body that is not a
 * plain JSON object is returned as is so the caller's validation reports it.
 */
export function normaliseResourceBody(body: unknown, resourceType: ResourceType): unknown {
  if (!isJsonObject(body)) return body;
  return BODY_STEPS[resourceType].reduce((normalised, step) => step(normalised, resourceType), body);
}

// Okta + Entra PATCH messages (the Entra compat doc's default PATCH mode; Okta's reference, "Group Push" operations).
/**
 * A normalised copy of a PatchOp message: each operation object goes through the dialect steps in order; anything
 * else (a non-object message, a missing or non-array `Operations`, a non-object operation) is passed on untouched for
 * the caller's validation. An empty `Operations` stays empty (RFC 7644 §3.5.2 requires 400 for it).
 */
export function normalisePatchMessage(message: unknown, resourceType: ResourceType): unknown {
  if (!isJsonObject(message) || !Array.isArray(message.Operations)) return message;
  const steps = OPERATION_STEPS[resourceType];
  const operations: unknown[] = message.Operations;
  return {
    ...message,
    Operations: operations
      .map((operation) => (isJsonObject(operation) ? steps.reduce((normalised, step) => step(normalised), operation) : operation))
      .flatMap((operation) => (resourceType === "User" ? splitPathlessMultiValuedReplace(operation) : [operation])),
  };
}
