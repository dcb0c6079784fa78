// /Users: scimmy validates and coerces bodies and applies User PatchOps; storage, reads, paging and
// filtering are ours, in SQL, scoped to the caller's connection.
import { SCIMMY } from "scimmy-routers";
import type { ScimContext } from "../scim-context.ts";
import { scimError } from "../scim-error.ts";
import { normalisePatchMessage, normaliseResourceBody, rewriteForRfcTargets, rewriteTypedElementUpserts } from "../compat/normalise-request.ts";
import { compileFilter, compileSortBy } from "../filter/compile-filter.ts";
import { URN } from "../schemas.ts";
import { userSqlShape } from "./user-sql-shape.ts";
import { projectAttributes } from "./attribute-projection.ts";
import { renderUser } from "./render-resource.ts";
import { userFields, validatedDocument } from "./stored-document.ts";
import { applyUndeclaredOperations, splitUndeclaredExtensions, undeclaredExtensionsOf, withUndeclaredExtensions } from "./undeclared-extensions.ts";
import {
  existingIdOr404, guarded, isUuid, pagedListResponse, pageSize, requireObjectBody, resourceRequest, scimmyConstructorArgs, type ResourceRequest,
} from "./resource-request.ts";
import { hasPendingChange, recordSnapshotChange } from "../../../snapshot/snapshot-changes.ts";
import {
  findIdpUser, findIdpUsersBy, insertIdpUser, listIdpUsers, replaceIdpUser, tombstoneIdpUser, USER_LOOKUPS, type IdpUserRow,
} from "../../../snapshot/idp-users.ts";
import { equalityLookup, lookupPage } from "./equality-lookup.ts";

type Json = Record<string, unknown>;

/**
 * Whether a committed write makes the user a departure (its access must be gone before the answer):
 * the stored user is inactive after the write and was active before, or was already inactive with a
 * change still pending — the retry of a deactivation whose reconcile failed (503) must not pass as a
 * profile edit. Decided from the stored rows, so every PatchOp spelling of "active false" counts alike.
 */
function departs(before: IdpUserRow, after: IdpUserRow, owed: boolean): boolean {
  return !after.active && (before.active || owed);
}

export class ScimUserResource extends SCIMMY.Resources.User {
  readonly request: ResourceRequest;
  /** Set by a committed write: the users (by snapshot id) it deactivated or deleted, for the router's departure hook. */
  departed: readonly string[] = [];

  constructor(idOrQuery?: unknown, maybeQuery?: unknown) {
    const request = resourceRequest(idOrQuery, maybeQuery);
    super(...(scimmyConstructorArgs(request) as [string, object]));
    this.request = request;
  }

  private project(resource: Json): Json {
    const { attributes, excludedAttributes } = this.request.query;
    return projectAttributes(resource, URN.user, attributes, excludedAttributes);
  }

  override async read(context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      if (this.request.id !== undefined) {
        const row = await findIdpUser(ctx.db, ctx.scope, existingIdOr404(this.request, "User"));
        if (!row) throw scimError(404, null, `User ${this.request.id} not found`);
        return this.project(renderUser(row, ctx.baseUrl)) as never;
      }
      const { query } = this.request;
      const limit = pageSize(query, ctx.maxPageSize);
      const lookup = query.sortBy === undefined ? equalityLookup(query.filter, USER_LOOKUPS) : undefined;
      if (lookup) {
        const matches = lookup.attribute === "id" && !isUuid(lookup.value) ? [] : await findIdpUsersBy(ctx.db, ctx.scope, lookup.attribute, lookup.value);
        const { rows, total } = lookupPage(matches, query.startIndex, limit);
        return pagedListResponse(rows.map((r) => this.project(renderUser(r, ctx.baseUrl))), total, query.startIndex) as never;
      }
      const { rows, total } = await listIdpUsers(ctx.db, ctx.scope, {
        where: query.filter === undefined ? undefined : compileFilter(query.filter, userSqlShape),
        orderBy: query.sortBy === undefined ? undefined : compileSortBy(query.sortBy, userSqlShape),
        descending: query.descending,
        offset: query.startIndex - 1,
        limit,
      });
      return pagedListResponse(rows.map((r) => this.project(renderUser(r, ctx.baseUrl))), total, query.startIndex) as never;
    });
  }

  /** POST (no id) creates; PUT (id) replaces every attribute with the body's. */
  override async write(body: unknown, context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const operation = this.request.id === undefined ? "POST" : "PUT";
      const { body: declared, extensions } = splitUndeclaredExtensions(requireObjectBody(body, operation), "User");
      const document = withUndeclaredExtensions(validatedDocument(SCIMMY.Schemas.User, normaliseResourceBody(declared, "User") as Json), extensions, "User");
      const fields = userFields(document);
      const id = this.request.id === undefined ? undefined : existingIdOr404(this.request, "User");
      // one statement writes the user and its reconcile request: atomic without a transaction
      const change = `SCIM ${operation} /Users/`;
      const row: IdpUserRow | undefined = id === undefined
        ? await insertIdpUser(ctx.db, ctx.scope, fields, undefined, change)
        : await ctx.db.transaction(async (trx) => {
          // the stored user before the replace, under its row lock: was it active, is a departure owed?
          const before = await findIdpUser(trx, ctx.scope, id, true);
          if (!before) return undefined;
          const owed = !before.active && (await hasPendingChange(trx, ctx.scope, id));
          const after = await replaceIdpUser(trx, ctx.scope, id, fields, change);
          if (after && departs(before, after, owed)) this.departed = [id];
          return after;
        });
      if (!row) throw scimError(404, null, `User ${id} not found`);
      return this.project(renderUser(row, ctx.baseUrl)) as never;
    });
  }

  /** Applies the operations to the stored user under its row lock; answers 200 with the resource. */
  override async patch(message: unknown, context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const id = existingIdOr404(this.request, "User");
      const normalised = normalisePatchMessage(requireObjectBody(message, "PATCH"), "User") as Json;
      // the message's shape (schemas, non-empty Operations, op names), even when no operation reaches scimmy
      new SCIMMY.Messages.PatchOp(normalised as never);
      const row = await ctx.db.transaction(async (trx) => {
        const current = await findIdpUser(trx, ctx.scope, id, true);
        if (!current) throw scimError(404, null, `User ${id} not found`);
        const owed = !current.active && (await hasPendingChange(trx, ctx.scope, id));
        const written = (after: IdpUserRow): IdpUserRow => {
          if (departs(current, after, owed)) this.departed = [id];
          return after;
        };
        const rendered = renderUser(current, ctx.baseUrl);
        const undeclared = Array.isArray(normalised.Operations)
          ? applyUndeclaredOperations(normalised.Operations, undeclaredExtensionsOf(current.resource, "User"), "User") : undefined;
        let document: Json | undefined;
        if (undeclared === undefined || undeclared.operations.length > 0) {
          const operations = undeclared
            ? rewriteTypedElementUpserts(rewriteForRfcTargets(undeclared.operations, rendered, URN.user) as never[], rendered) : normalised.Operations;
          const patchOp = new SCIMMY.Messages.PatchOp({ ...normalised, Operations: operations } as never);
          await patchOp.apply(new SCIMMY.Schemas.User(rendered, "out", `${ctx.baseUrl}/Users`), async (instance: object) => {
            document = validatedDocument(SCIMMY.Schemas.User, JSON.parse(JSON.stringify(instance)) as Json);
            return instance;
          });
        }
        // extensions /Schemas does not declare: applied above, outside scimmy, and put back here
        if (undeclared?.touched) document = withUndeclaredExtensions(document ?? current.resource, undeclared.extensions, "User");
        else if (document !== undefined) document = withUndeclaredExtensions(document, undeclaredExtensionsOf(current.resource, "User"), "User");
        const unchanged = document === undefined || JSON.stringify(userFields(document).resource) === JSON.stringify(current.resource);
        if (unchanged) return written(current);
        return written((await replaceIdpUser(trx, ctx.scope, id, userFields(document!), "SCIM PATCH /Users/"))!);
      });
      return this.project(renderUser(row, ctx.baseUrl)) as never;
    });
  }

  override async dispose(context?: unknown): Promise<void> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const id = existingIdOr404(this.request, "User");
      const deleted = await ctx.db.transaction(async (trx) => {
        const found = await tombstoneIdpUser(trx, ctx.scope, id);
        if (found) await recordSnapshotChange(trx, ctx.scope, `SCIM DELETE /Users/${id}`, [id]);
        return found;
      });
      if (!deleted) throw scimError(404, null, `User ${id} not found`);
      this.departed = [id];
    });
  }
}
