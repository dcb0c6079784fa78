// Groups in SQL: table idp_groups as `g`; members live in idp_group_members, never in the document.
import { SCIMMY } from "scimmy-routers";
import type { ResourceSqlShape, ScalarTarget } from "../filter/resource-sql-shape.ts";
import { factsFromDefinition } from "../filter/schema-facts.ts";
import { URN } from "../schemas.ts";

const column = (sql: string, type: ScalarTarget["type"], caseExact: boolean, uuid = false): ScalarTarget =>
  ({ kind: "scalar", sql, type, caseExact, uuid });

export const groupSqlShape: ResourceSqlShape = {
  facts: factsFromDefinition(() => SCIMMY.Schemas.Group.definition),
  coreUrn: URN.group,
  document: "g.resource",
  columns: {
    id: column("g.id", "string", true, true),
    displayname: column("g.display_name", "string", false),
    externalid: column("g.external_id", "string", true),
    "meta.created": column("g.created_at", "dateTime", false),
    "meta.lastmodified": column("g.updated_at", "dateTime", false),
  },
  relations: {
    members: {
      kind: "collection",
      from: "idp_group_members e",
      correlate: "e.group_id = g.id",
      element: (sub) => {
        switch ((sub ?? "value").toLowerCase()) {
          case "value": return column("e.member_id", "string", true, true);
          case "type": return column("e.member_type", "string", false);
          case "display": return column("e.display", "string", false);
          default: return undefined;
        }
      },
    },
  },
};
