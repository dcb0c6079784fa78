// Snapshot rows → SCIM JSON, straight from the stored document (no re-coercion per read: scimmy's
// costs ~0.3 ms a resource, ~100× a plain render on a 100-user page).
import type { IdpUserRow } from "../../../snapshot/idp-users.ts";
import type { GroupMemberRow, IdpGroupRow } from "../../../snapshot/idp-groups.ts";
import { URN } from "../schemas.ts";

type Json = Record<string, unknown>;

function meta(resourceType: "User" | "Group", row: { id: string; created_at: Date; updated_at: Date; version: number }, baseUrl: string): Json {
  return {
    resourceType,
    created: new Date(row.created_at).toISOString(),
    lastModified: new Date(row.updated_at).toISOString(),
    location: `${baseUrl}/${resourceType}s/${row.id}`,
    version: `W/"${row.version}"`,
  };
}

export function renderUser(row: IdpUserRow, baseUrl: string): Json {
  const { schemas, externalId: _e, id: _i, meta: _m, active: _a, ...attributes } = row.resource;
  return {
    schemas: schemas ?? [URN.user],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    meta: meta("User", row, baseUrl),
    ...attributes,
    active: row.active,
  };
}

/** `members` undefined leaves the attribute out (excludedAttributes=members never loads them). */
export function renderGroup(row: IdpGroupRow, members: GroupMemberRow[] | undefined, baseUrl: string): Json {
  const { schemas, externalId: _e, id: _i, meta: _m, displayName: _d, ...attributes } = row.resource;
  return {
    schemas: schemas ?? [URN.group],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    meta: meta("Group", row, baseUrl),
    displayName: row.display_name,
    ...attributes,
    ...(members === undefined ? {} : {
      members: members.map((m) => ({
        value: m.member_id,
        $ref: `${baseUrl}/${m.member_type}s/${m.member_id}`,
        type: m.member_type,
        ...(m.display !== null ? { display: m.display } : {}),
      })),
    }),
  };
}
