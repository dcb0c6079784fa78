// /Groups: displayName is unique per connection (409 uniqueness); membership changes are incremental SQL under the group's row lock (cost independent of
// group size), members load only when asked for, and PATCH answers 204 as Entra asks.
import { SCIMMY } from "scimmy-routers";
import { Tester, type Filter } from "scim2-parse-filter";
import type { ScimContext } from "../scim-context.ts";
import { scimError } from "../scim-error.ts";
import { normalisePatchMessage, normaliseResourceBody } from "../compat/normalise-request.ts";
import { compileFilter, compileSortBy } from "../filter/compile-filter.ts";
import { URN } from "../schemas.ts";
import { equalityLookup, lookupPage } from "./equality-lookup.ts";
import { groupSqlShape } from "./group-sql-shape.ts";
import { projectAttributes } from "./attribute-projection.ts";
import { renderGroup } from "./render-resource.ts";
import { groupFields, validatedDocument } from "./stored-document.ts";
import {
  applyUndeclaredOperations, splitUndeclaredExtensions, undeclaredExtensionsOf, withUndeclaredExtensions,
} from "./undeclared-extensions.ts";
import { memberReferences, planGroupPatch, type GroupPatchStep, type PatchOperation } from "./group-patch-plan.ts";
import { namesAttribute } from "./resource-query.ts";
import {
  existingIdOr404, guarded, isUuid, pagedListResponse, pageSize, requireObjectBody, resourceRequest, scimmyConstructorArgs, type ResourceRequest,
} from "./resource-request.ts";
import {
  addGroupMembers, changeGroupMembers, findIdpGroup, findIdpGroupsBy, findUnknownMembers, GROUP_LOOKUPS, insertIdpGroup, listGroupMembers, listIdpGroups, lockIdpGroup,
  removeAllGroupMembers, removeGroupMembers, replaceGroupMembers, replaceIdpGroup, replaceIdpGroupResource, tombstoneIdpGroup, updateIdpGroupAttributes,
  GroupNameTakenError, type GroupMemberRow, type IdpGroupRow, type MemberReference,
} from "../../../snapshot/idp-groups.ts";
import type { ConnectionScope, Executor } from "../../../snapshot/connection-scope.ts";
import { recordSnapshotChange } from "../../../snapshot/snapshot-changes.ts";

type Json = Record<string, unknown>;

const unknownMembersError = (unknown: readonly string[]) =>
  scimError(400, "invalidValue", `no User or Group with id ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", …" : ""}`);

/** RFC 7644 §3.3 and §3.5: a uniqueness violation is a 409 with scimType uniqueness. */
async function uniqueDisplayName<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GroupNameTakenError) throw scimError(409, "uniqueness", error.message);
    throw error;
  }
}

const selfMembershipError = () => scimError(400, "invalidValue", "a group cannot be a member of itself");

/** Every referenced member must be a live User or Group of this connection, and not the group itself. */
async function assertMembersExist(db: Executor, scope: ConnectionScope, groupId: string | undefined, members: readonly MemberReference[]): Promise<void> {
  if (groupId !== undefined && members.some((m) => m.value === groupId)) throw selfMembershipError();
  const unknown = await findUnknownMembers(db, scope, [...new Set(members.map((m) => m.value))]);
  if (unknown.length > 0) throw unknownMembersError(unknown);
}

/**
 * A PATCH that only adds and removes distinct members can run as one statement; one that also renames,
 * replaces or empties the group, or names an id on both sides (order then matters), cannot.
 */
function memberOnlyChange(steps: readonly GroupPatchStep[], groupId: string): { add: MemberReference[]; remove: string[] } | undefined {
  const add: MemberReference[] = [];
  const remove: string[] = [];
  for (const step of steps) {
    if (step.kind === "addMembers") add.push(...step.members);
    else if (step.kind === "removeMembers") remove.push(...step.memberIds);
    else return undefined;
  }
  if (add.some((m) => m.value === groupId)) throw selfMembershipError();
  const removing = new Set(remove);
  return add.some((m) => removing.has(m.value)) ? undefined : { add, remove };
}

const tester = new Tester();

/** Lower-cases every string compared, on both sides: members' value, type and display are caseExact=false. */
function lowerFilter(filter: Filter): Filter {
  return JSON.parse(JSON.stringify(filter), (key, value) => (key === "compValue" && typeof value === "string" ? value.toLowerCase() : value)) as Filter;
}

function memberMatches(member: GroupMemberRow, filter: Filter): boolean {
  const element = { value: member.member_id.toLowerCase(), type: member.member_type.toLowerCase(), ...(member.display === null ? {} : { display: member.display.toLowerCase() }) };
  return tester.test(element, lowerFilter(filter));
}

async function applyGroupStep(trx: Executor, scope: ConnectionScope, groupId: string, step: GroupPatchStep): Promise<void> {
  switch (step.kind) {
    case "setAttributes":
      return updateIdpGroupAttributes(trx, scope, groupId, step);
    case "addMembers":
      await assertMembersExist(trx, scope, groupId, step.members);
      await addGroupMembers(trx, scope, groupId, step.members);
      return;
    case "removeMembers":
      await removeGroupMembers(trx, groupId, step.memberIds);
      return;
    case "removeMembersMatching": {
      const members = (await listGroupMembers(trx, [groupId])).get(groupId) ?? [];
      const matching = members.filter((m) => memberMatches(m, step.filter)).map((m) => m.member_id);
      if (matching.length > 0) await removeGroupMembers(trx, groupId, matching);
      return;
    }
    case "removeAllMembers":
      await removeAllGroupMembers(trx, groupId);
      return;
    case "replaceMembers":
      await assertMembersExist(trx, scope, groupId, step.members);
      await replaceGroupMembers(trx, scope, groupId, step.members);
  }
}

export class ScimGroupResource extends SCIMMY.Resources.Group {
  readonly request: ResourceRequest;

  constructor(idOrQuery?: unknown, maybeQuery?: unknown) {
    const request = resourceRequest(idOrQuery, maybeQuery);
    super(...(scimmyConstructorArgs(request) as [string, object]));
    this.request = request;
  }

  /** `excludedAttributes=members`, or an `attributes` list without members, never loads them. */
  private get wantsMembers(): boolean {
    const { attributes, excludedAttributes } = this.request.query;
    if (attributes?.length) return namesAttribute(attributes, "members");
    return !namesAttribute(excludedAttributes, "members");
  }

  private async render(ctx: ScimContext, rows: IdpGroupRow[]): Promise<Json[]> {
    const members = this.wantsMembers ? await listGroupMembers(ctx.db, rows.map((r) => r.id)) : undefined;
    const { attributes, excludedAttributes } = this.request.query;
    return rows.map((row) => projectAttributes(renderGroup(row, members?.get(row.id), ctx.baseUrl), URN.group, attributes, excludedAttributes));
  }

  override async read(context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      if (this.request.id !== undefined) {
        const row = await findIdpGroup(ctx.db, ctx.scope, existingIdOr404(this.request, "Group"));
        if (!row) throw scimError(404, null, `Group ${this.request.id} not found`);
        return (await this.render(ctx, [row]))[0] as never;
      }
      const { query } = this.request;
      const lookup = query.sortBy === undefined ? equalityLookup(query.filter, GROUP_LOOKUPS) : undefined;
      if (lookup) {
        const matches = lookup.attribute === "id" && !isUuid(lookup.value) ? [] : await findIdpGroupsBy(ctx.db, ctx.scope, lookup.attribute, lookup.value);
        const { rows, total } = lookupPage(matches, query.startIndex, pageSize(query, ctx.maxPageSize));
        return pagedListResponse(await this.render(ctx, rows), total, query.startIndex) as never;
      }
      const { rows, total } = await listIdpGroups(ctx.db, ctx.scope, {
        where: query.filter === undefined ? undefined : compileFilter(query.filter, groupSqlShape),
        orderBy: query.sortBy === undefined ? undefined : compileSortBy(query.sortBy, groupSqlShape),
        descending: query.descending,
        offset: query.startIndex - 1,
        limit: pageSize(query, ctx.maxPageSize),
      });
      return pagedListResponse(await this.render(ctx, rows), total, query.startIndex) as never;
    });
  }

  /**
   * POST creates (with any members given); PUT replaces the attributes and, when the body carries
   * `members`, the member list. A PUT without `members` leaves membership alone rather than
   * emptying the group: losing access on a client's omission is the costlier mistake.
   */
  override async write(body: unknown, context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const operation = this.request.id === undefined ? "POST" : "PUT";
      const { body: declared, extensions } = splitUndeclaredExtensions(requireObjectBody(body, operation), "Group");
      const normalised = normaliseResourceBody(declared, "Group") as Json;
      const { members: rawMembers, ...attributes } = normalised;
      const members = rawMembers === undefined || rawMembers === null ? undefined : memberReferences(rawMembers, "members");
      const fields = groupFields(withUndeclaredExtensions(validatedDocument(SCIMMY.Schemas.Group, attributes), extensions, "Group"));
      const id = this.request.id === undefined ? undefined : existingIdOr404(this.request, "Group");
      const row = await uniqueDisplayName(() => ctx.db.transaction(async (trx) => {
        const written = id === undefined ? await insertIdpGroup(trx, ctx.scope, fields) : await replaceIdpGroup(trx, ctx.scope, id, fields);
        if (!written) throw scimError(404, null, `Group ${id} not found`);
        if (members !== undefined) {
          await assertMembersExist(trx, ctx.scope, written.id, members);
          await replaceGroupMembers(trx, ctx.scope, written.id, members);
        }
        await recordSnapshotChange(trx, ctx.scope, `SCIM ${operation} /Groups/${written.id}`, null);
        return written;
      }));
      return (await this.render(ctx, [row]))[0] as never;
    });
  }

  override async patch(message: unknown, context?: unknown): Promise<never> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const id = existingIdOr404(this.request, "Group");
      const normalised = normalisePatchMessage(requireObjectBody(message, "PATCH"), "Group");
      // scimmy validates the message shape (schemas, non-empty Operations, op names) and nothing more
      const { Operations } = new SCIMMY.Messages.PatchOp(normalised as never) as unknown as { Operations: PatchOperation[] };
      // extensions /Schemas does not declare are kept as sent, as for Users: their operations are applied
      // outside the plan, to the stored resource (a dry run here only says whether any operation names one)
      const { operations: declared, touched } = applyUndeclaredOperations(Operations, {}, "Group");
      const steps = planGroupPatch(declared as PatchOperation[]);
      const membership = touched ? undefined : memberOnlyChange(steps, id);
      if (membership) {
        // the common Entra and Okta shapes: one writing statement after the lock, holding it for the least time
        const result = await changeGroupMembers(ctx.db, ctx.scope, id, membership.add, membership.remove, "SCIM PATCH /Groups/");
        if (!result.groupFound) throw scimError(404, null, `Group ${id} not found`);
        if (result.unknown.length > 0) throw unknownMembersError(result.unknown);
        return undefined as never;
      }
      await uniqueDisplayName(() => ctx.db.transaction(async (trx) => {
        const locked = await lockIdpGroup(trx, ctx.scope, id);
        if (!locked) throw scimError(404, null, `Group ${id} not found`);
        for (const step of steps) await applyGroupStep(trx, ctx.scope, id, step);
        if (touched) {
          const { extensions } = applyUndeclaredOperations(Operations, undeclaredExtensionsOf(locked.resource, "Group"), "Group");
          const current = (await findIdpGroup(trx, ctx.scope, id))!; // the steps above may have renamed it
          await replaceIdpGroupResource(trx, ctx.scope, id, withUndeclaredExtensions(current.resource, extensions, "Group"));
        }
        await recordSnapshotChange(trx, ctx.scope, `SCIM PATCH /Groups/${id}`, null);
      }));
      return undefined as never;
    });
  }

  override async dispose(context?: unknown): Promise<void> {
    const ctx = context as ScimContext;
    return guarded(ctx, async () => {
      const id = existingIdOr404(this.request, "Group");
      const deleted = await ctx.db.transaction(async (trx) => {
        const found = await tombstoneIdpGroup(trx, ctx.scope, id);
        if (found) await recordSnapshotChange(trx, ctx.scope, `SCIM DELETE /Groups/${id}`, null);
        return found;
      });
      if (!deleted) throw scimError(404, null, `Group ${id} not found`);
    });
  }
}
