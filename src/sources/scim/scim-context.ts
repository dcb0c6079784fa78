// What every SCIM handler receives: the tenant (from the bearer token), the database and the base URL.
import type { Knex } from "knex";
import type { ConnectionScope } from "../../snapshot/connection-scope.ts";
import type { Logger } from "../../log/logger.ts";

export interface ScimContext {
  readonly scope: ConnectionScope;
  readonly db: Knex;
  /** Constant for the process: scimmy's basepath is global, so it must not vary per request. */
  readonly baseUrl: string;
  readonly maxPageSize: number;
  readonly log: Logger;
}
