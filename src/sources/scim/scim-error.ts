// Every SCIM failure is a ScimError (scimmy's error type, so scimmy-routers renders it as an RFC 7644
// error body with status and scimType). Anything else is normalised here, once, at the SCIM boundary.
import { SCIMMY } from "scimmy-routers";
import { URN } from "./schemas.ts";
import { describeSchemaFault } from "./schema-fault.ts";

export const ScimError = SCIMMY.Types.Error;
export type ScimError = InstanceType<typeof SCIMMY.Types.Error>;

export type ScimType =
  | "invalidFilter" | "tooMany" | "uniqueness" | "mutability" | "invalidSyntax"
  | "invalidPath" | "noTarget" | "invalidValue" | "invalidVers" | "sensitive";

/** The RFC 7644 §3.12 error body, for answers written outside scimmy (authentication, limits, the HTTP parser). */
export function scimErrorBody(status: number, detail: string, scimType?: string): Record<string, unknown> {
  return { schemas: [URN.error], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

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
  if (error instanceof ScimError) {
    // scimmy's PatchOp errors are ScimErrors in scimmy's words: reworded, status and scimType kept
    const detail = describeSchemaFault(error.message);
    const { status, scimType } = error as unknown as { status: number; scimType?: string };
    return { error: detail === undefined ? error : scimError(status, (scimType ?? null) as ScimType | null, detail), unexpected: false };
  }
  // scimmy's schema coercion reports a bad attribute value as a plain TypeError: reworded to name the
  // attribute's path and the rule; a TypeError we cannot read is a value that does not fit, not a 500
  if (error instanceof TypeError && !("code" in error)) {
    const detail = describeSchemaFault(error.message) ?? "a value in the request does not fit its attribute's definition in /Schemas";
    return { error: scimError(400, "invalidValue", detail), unexpected: false };
  }
  const pg = error as PgError;
  if (pg?.code === "23505") return { error: scimError(409, "uniqueness", "a resource with that unique attribute already exists"), unexpected: false };
  // class 22 (data exception): a value the database cannot hold as given — a NUL byte (22021), a lone
  // surrogate in JSON (22P02/22P05), a number or date out of range. The client's input, so a 400.
  if (typeof pg?.code === "string" && pg.code.startsWith("22")) {
    return { error: scimError(400, "invalidValue", "a value in the request cannot be stored (NUL bytes, unpaired surrogates and out-of-range values are not accepted)"), unexpected: false };
  }
  // class 54 (program limit exceeded): a userName too long for its index (54000), a statement too deep (54001)
  if (typeof pg?.code === "string" && pg.code.startsWith("54")) return { error: scimError(400, "invalidValue", "a value in the request is too large to store"), unexpected: false };
  return { error: scimError(500, null, "Internal server error"), unexpected: true };
}
