// What scimmy-routers hands a resource constructor — `(query)` or `(id, query)` — parsed our way.
// scimmy's own constructor builds `id eq "${id}"` by string interpolation and parses filters with a
// tree that gets `not (A or B)` wrong; neither is used.
import { SCIMMY } from "scimmy-routers";
import { parseResourceQuery, type ResourceQuery } from "./resource-query.ts";
import { scimError, toScimError } from "../scim-error.ts";
import type { ScimContext } from "../scim-context.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID, the only form a resource id takes. */
export const isUuid = (value: string): boolean => UUID.test(value);

export interface ResourceRequest {
  /** The id from the path, when there is one (valid or not: an invalid one is simply not found). */
  readonly id: string | undefined;
  readonly query: ResourceQuery;
}

export function resourceRequest(idOrQuery: unknown, maybeQuery: unknown): ResourceRequest {
  const id = typeof idOrQuery === "string" ? idOrQuery : undefined;
  const raw = (typeof idOrQuery === "string" ? maybeQuery : idOrQuery) ?? {};
  return { id, query: parseResourceQuery(raw as Record<string, unknown>) };
}

/** Arguments for scimmy's constructor that it can always parse: the real id is kept on our side. */
export function scimmyConstructorArgs(request: ResourceRequest): [string, object] | [object] {
  return request.id === undefined ? [{}] : ["placeholder", {}];
}

/** The id as a lowercase UUID, or a 404 (a malformed id names nothing: Okta's SPEC test expects 404). */
export function existingIdOr404(request: ResourceRequest, resourceType: string): string {
  if (request.id === undefined) throw scimError(404, null, `${resourceType} operation needs an id in the path`);
  if (!isUuid(request.id)) throw scimError(404, null, `${resourceType} ${request.id} not found`);
  return request.id.toLowerCase();
}

/** A ListResponse whose paging comes from the database (scimmy would re-slice the page in memory). */
export function pagedListResponse(resources: object[], totalResults: number, startIndex: number): object {
  const response = new SCIMMY.Messages.ListResponse(resources as never[], { totalResults, startIndex: 1, itemsPerPage: resources.length });
  (response as { startIndex: number }).startIndex = startIndex;
  return response;
}

export function pageSize(query: ResourceQuery, max: number): number {
  return Math.min(query.count ?? Math.min(100, max), max);
}

export function requireObjectBody(body: unknown, operation: string): Record<string, unknown> {
  if (body === undefined || body === null) throw scimError(400, "invalidSyntax", `${operation} needs a JSON body`);
  if (typeof body !== "object" || Array.isArray(body)) throw scimError(400, "invalidSyntax", `${operation} expects a single JSON object`);
  return body as Record<string, unknown>;
}

/**
 * Runs a handler so that whatever it throws leaves as a ScimError: scimmy-routers would otherwise
 * answer a database error with its message as the detail. Unexpected errors are logged here, once.
 */
export async function guarded<T>(ctx: ScimContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    const { error, unexpected } = toScimError(thrown);
    if (unexpected) ctx.log.error({ err: thrown }, "SCIM request failed");
    throw error;
  }
}
