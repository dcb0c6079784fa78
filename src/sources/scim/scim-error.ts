// Every SCIM failure is a ScimError (scimmy's error type, so scimmy-routers renders it as an RFC 7644
// error body with status and scimType). Anything else is normalised here, once, at the SCIM boundary.
import { SCIMMY } from "scimmy-routers";

export const ScimError = SCIMMY.Types.Error;
export type ScimError = InstanceType<typeof SCIMMY.Types.Error>;

export type ScimType =
  | "invalidFilter" | "tooMany" | "uniqueness" | "mutability" | "invalidSyntax"
  | "invalidPath" | "noTarget" | "invalidValue" | "invalidVers" | "sensitive";

export function scimError(status: number, scimType: ScimType | null, detail: string): ScimError {
  return new ScimError(status, scimType as string, detail);
}

export const notFound = (resourceType: string, id: string): ScimError =>
  scimError(404, null, `${resourceType} ${id} not found`);

interface PgError { code?: string; constraint?: string }

/**
 * Maps what a handler threw to the SCIM error a client can act on. scimmy would answer a database
 * outage with 404 (telling Entra the user is gone); here it is a 500 without internals, logged by the caller.
 */
export function toScimError(error: unknown): { error: ScimError; unexpected: boolean } {
  if (error instanceof ScimError) return { error, unexpected: false };
  // scimmy's schema coercion reports a bad attribute value as a plain TypeError with a precise message
  if (error instanceof TypeError && !("code" in error)) return { error: scimError(400, "invalidValue", error.message), unexpected: false };
  const pg = error as PgError;
  if (pg?.code === "23505") return { error: scimError(409, "uniqueness", "a resource with that unique attribute already exists"), unexpected: false };
  return { error: scimError(500, null, "Internal server error"), unexpected: true };
}
