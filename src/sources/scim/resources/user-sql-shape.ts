// Users in SQL: table idp_users as `u`. Indexed columns for the attributes clients filter on;
// everything else from the stored resource document.
import { SCIMMY } from "scimmy-routers";
import type { ResourceSqlShape, ScalarTarget } from "../filter/resource-sql-shape.ts";
import { factsFromDefinition } from "../filter/schema-facts.ts";
import { URN } from "../schemas.ts";

const column = (sql: string, type: ScalarTarget["type"], caseExact: boolean, uuid = false): ScalarTarget =>
  ({ kind: "scalar", sql, type, caseExact, uuid });

export const userSqlShape: ResourceSqlShape = {
  facts: factsFromDefinition(() => SCIMMY.Schemas.User.definition),
  coreUrn: URN.user,
  document: "u.resource",
  columns: {
    id: column("u.id", "string", true, true),
    username: column("u.user_name", "string", false),
    externalid: column("u.external_id", "string", true),
    displayname: column("u.display_name", "string", false),
    active: column("u.active", "boolean", false),
    "meta.created": column("u.created_at", "dateTime", false),
    "meta.lastmodified": column("u.updated_at", "dateTime", false),
  },
  relations: {
    // the read-only `groups` attribute is derived from group membership
    groups: {
      kind: "collection",
      from: "idp_group_members e join idp_groups g on g.id = e.group_id and g.deleted_at is null",
      correlate: "e.member_id = u.id",
      element: (sub) => {
        switch ((sub ?? "value").toLowerCase()) {
          case "value": return column("e.group_id", "string", true, true);
          case "display": return column("g.display_name", "string", false);
          default: return undefined;
        }
      },
    },
  },
};
