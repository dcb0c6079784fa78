// The admin API (/admin/v1) described as an OpenAPI 3.1 document, and the route that serves it.
// The document is written by hand from the route code (admin-router.ts, reconcile-routes.ts,
// pull-routes.ts, webhook-routes.ts); test/http/openapi.test.ts walks the real router so a route added without being
// described here (or described but gone) fails the build.
import express from "express";

// ---- a small typed subset of OpenAPI 3.1 (no dependency) ----

export interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly description?: string;
  readonly enum?: readonly (string | number | boolean | null)[];
  readonly const?: string | number | boolean;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly examples?: readonly unknown[];
}

export interface MediaType {
  readonly schema: Schema;
}

export interface Reference {
  readonly $ref: string;
}

export interface Response {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: Schema }>>;
  readonly content?: Readonly<Record<string, MediaType>>;
}

export interface Parameter {
  readonly name: string;
  readonly in: "path" | "query" | "header";
  readonly required?: boolean;
  readonly description?: string;
  readonly schema: Schema;
}

export interface RequestBody {
  readonly required?: boolean;
  readonly description?: string;
  readonly content: Readonly<Record<string, MediaType>>;
}

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly parameters?: readonly (Parameter | Reference)[];
  readonly requestBody?: RequestBody;
  readonly responses: Readonly<Record<string, Response | Reference>>;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
}

export type Method = "get" | "put" | "post" | "delete" | "patch";
export type PathItem = Partial<Record<Method, Operation>>;

export interface OpenApiDocument {
  readonly openapi: "3.1.0";
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly servers: readonly { readonly url: string; readonly description?: string }[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: {
    readonly securitySchemes: Readonly<Record<string, { readonly type: "http"; readonly scheme: "bearer"; readonly description?: string }>>;
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly parameters: Readonly<Record<string, Parameter>>;
    readonly responses: Readonly<Record<string, Response>>;
  };
}

// ---- building blocks ----

/** package.json's version; test/http/openapi.test.ts checks the two agree. */
export const ADMIN_API_VERSION = "0.1.0";

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const param = (name: string): Reference => ({ $ref: `#/components/parameters/${name}` });
const str: Schema = { type: "string" };
const int: Schema = { type: "integer" };
const uuid: Schema = { type: "string", format: "uuid" };
const time: Schema = { type: "string", format: "date-time" };
/** A PostgreSQL bigint, which node-pg (PostgreSQL and the embedded database alike) hands over as a string. */
const bigint: Schema = { type: "string", pattern: "^[0-9]+$" };
const BIGINT_NOTE = "A bigint, as a decimal string.";
const nullable = (type: string, extra: Omit<Schema, "type"> = {}): Schema => ({ type: [type, "null"], ...extra });
const list = (items: Schema): Schema => ({ type: "array", items });
const object = (properties: Record<string, Schema>, required: readonly string[] = Object.keys(properties), extra: Omit<Schema, "type" | "properties" | "required"> = {}): Schema =>
  ({ type: "object", properties, required, ...extra });

const json = (schema: Schema): Record<string, MediaType> => ({ "application/json": { schema } });
const ok = (description: string, schema: Schema): Response => ({ description, content: json(schema) });
const body = (schema: Schema, description?: string, required = false): RequestBody => ({ required, ...(description ? { description } : {}), content: json(schema) });

type ErrorStatus = 400 | 401 | 404 | 422 | 500;
const ERROR_RESPONSES: Record<ErrorStatus, string> = { 400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 422: "Unprocessable", 500: "InternalError" };

/** The problem+json answers an operation can give: 401 and 500 for every authenticated route, plus `statuses`. */
function errors(...statuses: ErrorStatus[]): Record<string, Reference> {
  const all = [...new Set<ErrorStatus>([...statuses, 401, 500])].sort((a, b) => a - b);
  return Object.fromEntries(all.map((status) => [String(status), { $ref: `#/components/responses/${ERROR_RESPONSES[status]}` }]));
}

function problemResponse(description: string): Response {
  return { description, content: { "application/problem+json": { schema: ref("Problem") } } };
}

// ---- schemas ----

const reason = object({
  rule: nullable("string", { description: "The rule (by name) that caused the action, if any." }),
  connectionIds: list(uuid),
  event: { type: "string", description: "What happened, in words." },
}, ["event"]);

/** One variant of PlanAction: its `type` constant, fields and a reason. */
function action(type: string, properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return object({ type: { const: type }, ...properties, reason: ref("Reason") },
    ["type", ...Object.keys(properties).filter((k) => !optional.includes(k)), "reason"]);
}
const role: Schema = { type: "string", enum: ["owner", "admin", "member"] };
const access: Schema = { type: "string", enum: ["read", "write"] };

const SCHEMAS: Record<string, Schema> = {
  Problem: object({
    type: { type: "string", const: "about:blank" },
    title: { type: "string", examples: ["Bad Request", "Unauthorized", "Not Found", "Invalid rules", "Invalid connection settings", "Internal Server Error"] },
    status: { type: "integer", description: "The HTTP status, repeated." },
    detail: { type: "string", description: "What was wrong, for a person." },
  }, undefined, { description: "An RFC 9457 problem detail (application/problem+json)." }),

  Account: object({ id: uuid, slug: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }, name: str, created_at: time }),
  AccountSummary: {
    allOf: [ref("Account"), object({ domains: { ...list(str), description: "The account's sending domains." }, owner_email: nullable("string") })],
  },
  NewAccount: object({
    slug: { type: "string", description: "Lowercased; letters, digits and dashes, at most 63.", pattern: "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$" },
    name: nullable("string", { description: "Defaults to the slug." }),
    domains: { ...list(str), description: "Sending domains (lowercased, deduplicated)." },
    ownerEmail: nullable("string", { description: "The owner; created as an app user if new." }),
  }, ["slug"]),

  Connection: object({
    id: uuid, account_id: uuid, kind: { type: "string", enum: ["scim", "google", "graph"] }, name: str,
    status: { type: "string", enum: ["active", "disabled", "revoked"], description: "revoked: a SCIM connection none of whose tokens still works (after `token revoke`); a new token (`token rotate`) makes it active again." },
    created_at: time,
  }),
  NewConnection: object({
    kind: { type: "string", enum: ["scim", "google", "graph"], default: "scim" },
    name: nullable("string", { description: "Defaults to \"<slug> SCIM\", \"<slug> Google Workspace\" or \"<slug> Microsoft Graph\"." }),
    config: {
      type: "object",
      description: "google and graph only: the connection's settings (as in `idsync connection create --config`): the source's own settings "
        + "(Google: customerId, subject, credentials {keyFile | keyEnv}, groupQuery, groupEmails, quotaPerMinute, concurrency; "
        + "Graph: tenantId, clientId, credentials {secretEnv | certificateFile}, groupFilter) plus `schedule` (cron expressions, UTC) and "
        + "`maxDropPercent`. Secrets are given by reference only (a file path or an environment variable's name). Invalid settings: 422.",
      additionalProperties: true,
    },
  }, []),
  ScimConnectionIssued: object({
    connection: ref("Connection"),
    scimBaseUrl: { type: "string", format: "uri", description: "The SCIM base URL to give the IdP (public URL + /scim/v2)." },
    token: { type: "string", description: "The SCIM bearer token; shown only in this answer." },
    tokenPrefix: { type: "string", description: "The token's non-secret prefix, as stored." },
  }),
  PulledConnectionCreated: object({ connection: ref("Connection") }),
  RotateTokens: object({
    graceMinutes: { type: "integer", minimum: 0, maximum: 43200, default: 60, description: "How long the connection's current tokens stay valid (0 ends them now)." },
  }, []),
  ScimTokenRotated: {
    allOf: [ref("ScimConnectionIssued"), object({ previousTokensExpireInMinutes: int })],
  },

  AccountPolicy: object({
    ownerSuccessor: nullable("string"),
    orgKeys: { type: "string", enum: ["revoke", "keep-and-alert"] },
    removalBrake: object({ minimum: int, percent: { type: "number" }, windowMinutes: int }),
    retentionDays: int,
    linkByEmail: { type: "boolean" },
  }),
  RulesDocumentJson: object({ document: { type: "string", description: "The rules document (YAML) as text." } }),
  RulesCheck: object({ valid: { const: true }, rules: { type: "integer", description: "How many rules." }, defaultRole: { type: "string", enum: ["none", "member"] }, policy: ref("AccountPolicy") }),
  RulesSaved: object({ version: int, rules: { type: "integer", description: "How many rules." }, warnings: list(ref("RuleWarning")),
    run: { type: "object", additionalProperties: true, description: "The reconcile the rules change caused (trigger \"rules change\"): runId, status (held when the removal brake holds removals), applied, withheld, message (the brake's numbers), heldRunId, kept." } }),
  StoredRules: object({ document: str, version: int }),

  Reason: reason,
  RuleWarning: object({ rule: str, line: int, message: str }),
  PlanAction: {
    description: "One change a reconcile makes (or an alert it raises), with the reason for it.",
    oneOf: [
      action("create_user", { key: str, email: str, displayName: nullable("string"), idpUserIds: list(str) }),
      action("link_identity", { userId: str, idpUserId: str, via: { type: "string", enum: ["managed-email", "policy-email"] } }),
      action("update_email", { userId: str, from: str, to: str }),
      action("add_member", { userKey: str, role }),
      action("change_role", { userId: str, from: role, to: role }),
      action("transfer_ownership", { from: nullable("string"), to: str }),
      action("grant_domain", { userKey: str, domainId: str, access }),
      action("change_access", { userId: str, domainId: str, from: access, to: access }),
      action("revoke_domain", { userId: str, domainId: str }),
      action("suspend_member", { userId: str }),
      action("reactivate_member", { userId: str }),
      action("delete_member", { userId: str }),
      action("revoke_sessions", { userId: str }),
      action("revoke_invitations", { userId: str, email: str }),
      action("revoke_key", { userId: str, keyId: str }),
      action("narrow_key", { userId: str, keyId: str, removeDomainIds: list(str) }),
      action("alert", {
        kind: { type: "string", enum: ["owner_departed", "owner_missing", "owner_conflict", "org_keys_kept", "manual_user_conflict", "email_conflict"] },
        userId: str, detail: str, data: { type: "object", additionalProperties: true },
      }, ["userId", "data"]),
    ],
  },
  PlanRow: object({
    action: { type: "string", description: "The action's type (see PlanAction)." },
    who: { type: "string", description: "The person (email), or \"-\"." },
    what: str,
    why: str,
    brake: { type: "string", description: "For a removal: what the removal brake does with it (passes, would be held and why, waits in a held run, kept by an operator's decision)." },
  }, ["action", "who", "what", "why"], { description: "A plan action as a row a person reads." }),
  BrakeSummary: object({
    message: nullable("string", { description: "Why removals wait: this run's count, the window's count, the window and the limit." }),
    heldRunId: nullable("string", { format: "uuid" }), verdict: nullable("string"), kept: int,
  }),
  Plan: object({
    actions: list(ref("PlanAction")),
    rows: list(ref("PlanRow")),
    manualMembers: { ...list(str), description: "Members no IdP manages: reported, never touched." },
    warnings: list(ref("RuleWarning")),
    brake: ref("BrakeSummary"),
  }),
  ReconcileResult: object({
    runId: nullable("string", { format: "uuid", description: "null when there was nothing to do." }),
    status: { type: "string", enum: ["succeeded", "held", "nothing-to-do"] },
    applied: int,
    withheld: { type: "integer", description: "Removals held back by the removal brake (status held: approve or reject the run)." },
    rows: list(ref("PlanRow")),
    brake: ref("BrakeSummary"),
  }),
  Decision: object({ email: { type: "string", description: "Only this person's removals in the run." } }, []),
  ApproveResult: object({
    runId: nullable("string", { format: "uuid", description: "The run that applied the approved removals." }),
    approvedRunId: uuid, approvedRunStatus: ref("RunStatus"), status: { type: "string", enum: ["succeeded", "held", "nothing-to-do"] }, applied: int,
    approved: { type: "integer", description: "Removals the approved run showed that were still planned, now applied." },
    stillHeld: nullable("string", { format: "uuid", description: "The held run other removals still wait in." }),
  }),
  RejectResult: object({ runId: uuid, status: ref("RunStatus"), people: int, removals: int }),
  KeptAccess: object({ email: str, user_id: uuid, run_id: nullable("string", { format: "uuid" }), keys: list(str), rejected_at: time, rejected_by: str }),
  RunStatus: { type: "string", enum: ["running", "succeeded", "failed", "aborted", "held", "superseded", "approved", "rejected", "cleared"] },
  RunSummary: object({
    id: uuid, kind: { type: "string", description: "reconcile, or <google|graph>-<mode> for a pull." }, status: ref("RunStatus"), trigger: str,
    connection_id: nullable("string", { format: "uuid" }), started_at: time, finished_at: nullable("string", { format: "date-time" }),
    api_calls: nullable("integer"), duration_ms: nullable("integer", { description: "The run's own work, without the time a held run waited for an operator." }),
    held_at: nullable("string", { format: "date-time" }), decided_at: nullable("string", { format: "date-time" }), decided_by: nullable("string"),
    superseded_by: nullable("string", { format: "uuid" }), counts: { type: "object", additionalProperties: true }, error: nullable("string"),
  }),
  Run: object({
    id: uuid, account_id: uuid, kind: str, status: ref("RunStatus"), trigger: str, started_at: time, finished_at: nullable("string", { format: "date-time" }),
    counts: { type: "object", additionalProperties: true },
    plan: { type: ["object", "null"], description: "The stored plan (a held run's withheld removals).", additionalProperties: true },
    error: nullable("string"),
  }),

  Member: object({
    email: str, user_id: { ...uuid, description: "The app user's id: what audit entries name as target_id." }, role, status: { type: "string", enum: ["active", "suspended"] },
    managed_by: { type: "string", description: "The managing connection's name, or \"manual\"." }, rule: nullable("string"),
    grants: list(object({ domain: str, access, managed: { type: "boolean" } })),
    kept: { type: "string", description: "Set when an operator rejected this person's removal: \"kept by an operator's decision (run … rejected)\"." },
  }, ["email", "role", "status", "managed_by", "rule", "grants"]),
  AccessReviewEntry: object({
    email: str, user_id: { ...uuid, description: "The app user's id: what audit entries name as target_id." }, role, status: { type: "string", enum: ["active", "suspended"] }, source: { type: "string", description: "The managing connection's name, or \"manual\"." },
    rule: { type: "string", description: "The granting rule, or \"-\"." }, member_since: time,
    access: list(object({ domain: { type: "string", description: "A domain, or \"every domain\" for owners and admins." }, access, rule: nullable("string"), since: time })),
  }),
  AuditEntry: object({
    id: int, occurred_at: time, actor: str, action: str, target_type: str, target_id: nullable("string"),
    before: { description: "JSON, or null." }, after: { description: "JSON, or null." },
    connection_id: nullable("string", { format: "uuid" }), rule: { ...nullable("string"), description: "The rule that caused it; on a deprovision and its revocations, the rule that had given the access." },
    run_id: nullable("string", { format: "uuid" }),
    target_name: { ...nullable("string"), description: "The target's email, domain, key (name and creator) or connection name, looked up when read." },
    names: { type: "object", additionalProperties: str, description: "Every id in the entry (target, connection, domains and users in before/after) that has a name, with that name." },
    change: { type: "string", description: "before → after for a person, with names for the ids in them." },
  }),
  Alert: object({ id: uuid, kind: str, detail: str, data: { type: "object", additionalProperties: true }, run_id: nullable("string", { format: "uuid" }), created_at: time }),

  ApiKey: object({
    id: uuid, created_by: { type: "string", description: "The creator's email." }, name: str, token_prefix: str, scope: { type: "string", enum: ["organization", "domains"] },
    created_at: time, last_used_at: nullable("string", { format: "date-time" }), revoked_at: nullable("string", { format: "date-time" }),
    revoked_reason: nullable("string"), domains: list(str),
  }),
  NewKey: object({
    email: { type: "string", description: "The member the key is created as." },
    name: { type: "string", default: "api key" },
    domains: { ...list(str), description: "Domain names; omitted: a member's key covers every domain they can write, an admin's is organization-wide." },
    organizationWide: { type: "boolean", default: false },
  }, ["email"]),
  CreatedKey: object({ id: uuid, key: { type: "string", description: "The secret; shown only in this answer." }, scope: { type: "string", enum: ["organization", "domains"] }, domainIds: list(uuid) }),
  NewSession: object({ email: { type: "string", description: "An existing app user's email." } }),
  NewInvitation: object({
    email: { type: "string", pattern: "^[^\\s@]+@[^\\s@]+$" },
    role: { type: "string", enum: ["admin", "member"], default: "member" },
    invitedBy: { type: "string", description: "The inviting app user's email (must exist)." },
  }, ["email"]),
  Created: object({ id: uuid }),

  Webhook: object({
    id: uuid, account_id: uuid, url: { type: "string", format: "uri" },
    secret_env: { type: "string", description: "The NAME of the environment variable holding the signing secret (never the secret)." },
    event_types: { type: ["array", "null"], items: str, description: "null: every event type." },
    status: { type: "string", enum: ["active", "disabled"] }, created_at: time, created_by: str,
    last_event_id: { ...bigint, description: "Events up to this id have been enqueued for this endpoint. " + BIGINT_NOTE },
  }),
  WebhookSummary: {
    allOf: [ref("Webhook"), object({ deliveries: object({ pending: int, delivered: int, failed: int }) })],
  },
  NewWebhook: object({
    url: { type: "string", format: "uri", description: "http or https, at most 2048 characters, without credentials (requests are signed instead)." },
    secretEnv: { type: "string", pattern: "^IDSYNC_WEBHOOK_[A-Z0-9_]{1,100}$", description: "The NAME of the environment variable holding the signing secret." },
    eventTypes: {
      type: ["array", "null"], items: { type: "string", pattern: "^[a-z][a-z0-9_.-]{0,99}$" },
      description: "A non-empty list of event types (such as member.added); omitted or null: every type.",
    },
  }, ["url", "secretEnv"]),
  WebhookDelivery: object({
    id: { ...bigint, description: BIGINT_NOTE }, endpoint_id: uuid, event_id: { ...bigint, description: BIGINT_NOTE }, event_type: str,
    status: { type: "string", enum: ["pending", "delivered", "failed"] }, attempts: int, next_attempt_at: time,
    last_status: { type: ["integer", "null"], description: "The receiver's last HTTP status." }, last_error: nullable("string"),
    delivered_at: nullable("string", { format: "date-time" }), created_at: time,
  }),

  SyncRequest: object({
    mode: { type: "string", enum: ["full", "departures", "delta"], description: "Default: delta for graph, full for google. Google runs full or departures; Graph delta or full." },
    dryRun: { type: "boolean", default: false, description: "Pull and plan inside a transaction that is rolled back: nothing is written." },
    maxDropPercent: { type: "number", minimum: 0, maximum: 100, description: "This run only: the largest drop in active users or memberships to believe." },
  }, []),
  SyncResult: object({
    runId: nullable("string", { format: "uuid", description: "null for a dry run or when busy." }),
    status: { type: "string", enum: ["succeeded", "aborted", "failed", "busy", "dry-run"] },
    calls: { type: "integer", description: "Directory API calls made." },
    durationMs: { type: "number" },
    counts: { type: "object", additionalProperties: { type: "number" } },
    error: { type: "string", description: "aborted or failed: why (nothing was changed)." },
    reconcile: object({ status: str, runId: nullable("string", { format: "uuid" }), applied: int, withheld: int }, undefined, { description: "The reconcile that followed a pull that changed the snapshot." }),
    rows: { ...list(ref("PlanRow")), description: "A dry run that got as far as planning: the plan." },
    warnings: { ...list(ref("RuleWarning")), description: "With rows." },
  }, ["runId", "status", "calls", "durationMs", "counts"]),
  SyncLine: {
    description: "One line of the application/x-ndjson answer of a sync: zero or more {progress} lines, then one {result} line.",
    oneOf: [object({ progress: str }), object({ result: ref("SyncResult") })],
  },
};

// ---- operations ----

const slug = [param("slug")];
const connectionId = [param("connectionId")];
const runId = [param("runId")];

const rulesBody: RequestBody = {
  required: true,
  description: "The rules document: as text (YAML), or as JSON {\"document\": \"…\"}. Bodies up to 1 MB.",
  content: {
    "application/yaml": { schema: str },
    "text/yaml": { schema: str },
    "text/plain": { schema: str },
    "application/json": { schema: ref("RulesDocumentJson") },
  },
};

const PATHS: Record<string, PathItem> = {
  "/openapi.json": {
    get: {
      operationId: "getOpenApi", tags: ["meta"], summary: "This document",
      description: "Served without an admin token.",
      security: [],
      responses: { 200: ok("The OpenAPI 3.1 document of the admin API.", { type: "object" }) },
    },
  },
  "/accounts": {
    get: {
      operationId: "listAccounts", tags: ["accounts"], summary: "List accounts with their domains and owner",
      responses: { 200: ok("Every account, by slug.", object({ accounts: list(ref("AccountSummary")) })), ...errors() },
    },
    post: {
      operationId: "createAccount", tags: ["accounts"], summary: "Create an account (with its domains and owner), audited",
      requestBody: body(ref("NewAccount"), undefined, true),
      responses: { 201: ok("Created.", object({ account: ref("AccountSummary") })), ...errors(400) },
    },
  },
  "/accounts/{slug}/domains": {
    get: {
      operationId: "listDomains", tags: ["accounts"], summary: "An account's sending domains", parameters: slug,
      responses: { 200: ok("The domains, by name.", object({ domains: list(object({ id: uuid, name: str, created_at: time })) })), ...errors(404) },
    },
    post: {
      operationId: "addDomain", tags: ["accounts"], summary: "Add a sending domain; rules whose patterns match it apply from the next reconcile", parameters: slug,
      requestBody: body(object({ name: str }, ["name"]), undefined, true),
      responses: { 201: ok("The domain.", object({ domain: object({ id: uuid, name: str }) })), ...errors(400, 404) },
    },
  },
  "/accounts/{slug}/connections": {
    get: {
      operationId: "listConnections", tags: ["connections"], summary: "List an account's directory connections", parameters: slug,
      responses: { 200: ok("The connections, oldest first.", object({ connections: list(ref("Connection")) })), ...errors(404) },
    },
    post: {
      operationId: "createConnection", tags: ["connections"], summary: "Create a SCIM, Google or Graph connection", parameters: slug,
      description: "A SCIM connection answers with its SCIM base URL and bearer token (shown once); a google or graph connection with the connection only.",
      requestBody: body(ref("NewConnection")),
      responses: {
        201: ok("Created.", { oneOf: [ref("ScimConnectionIssued"), ref("PulledConnectionCreated")] }),
        ...errors(400, 404, 422),
      },
    },
  },
  "/connections/{id}/tokens/rotate": {
    post: {
      operationId: "rotateScimToken", tags: ["connections"], summary: "Issue a new SCIM token; the old ones expire after a grace period", parameters: connectionId,
      requestBody: body(ref("RotateTokens")),
      responses: { 201: ok("The new token (shown once).", ref("ScimTokenRotated")), ...errors(400, 404) },
    },
  },
  "/connections/{id}/tokens/revoke": {
    post: {
      operationId: "revokeScimTokens", tags: ["connections"], summary: "Revoke every still-valid SCIM token of a connection now", parameters: connectionId,
      responses: { 200: ok("How many tokens were revoked.", object({ revoked: int })), ...errors(404) },
    },
  },
  "/connections/{id}/sync": {
    post: {
      operationId: "syncConnection", tags: ["pulls"], summary: "Pull a Google or Graph connection now (streams progress)", parameters: connectionId,
      description: "Only offered when the server runs a pull scheduler. The answer is application/x-ndjson: {\"progress\": \"…\"} lines as the pull goes, "
        + "then one {\"result\": {…}} line. Once the stream has started the status is 200 and failures are reported in the result (status aborted or failed); "
        + "a SCIM connection or a bad mode is refused with 400 before streaming.",
      requestBody: body(ref("SyncRequest")),
      responses: {
        200: { description: "Progress lines, then the result line.", content: { "application/x-ndjson": { schema: ref("SyncLine") } } },
        ...errors(400, 404, 422),
      },
    },
  },

  "/rules/check": {
    post: {
      operationId: "checkRules", tags: ["rules"], summary: "Validate a rules document without storing it",
      requestBody: rulesBody,
      responses: { 200: ok("The document is valid.", ref("RulesCheck")), ...errors(400, 422) },
    },
  },
  "/accounts/{slug}/rules": {
    get: {
      operationId: "getRules", tags: ["rules"], summary: "The account's stored rules document", parameters: slug,
      responses: { 200: ok("The document and its version.", ref("StoredRules")), ...errors(404) },
    },
    put: {
      operationId: "putRules", tags: ["rules"], summary: "Validate and store the account's rules, and reconcile the account now", parameters: slug,
      requestBody: rulesBody,
      responses: { 200: ok("Stored; the plan's warnings and what the reconcile did (held or not, and why).", ref("RulesSaved")), ...errors(400, 404, 422) },
    },
  },
  "/accounts/{slug}/plan": {
    get: {
      operationId: "planAccount", tags: ["reconcile"], summary: "Dry-run a reconcile: what would change, and why", parameters: slug,
      responses: { 200: ok("The plan.", ref("Plan")), ...errors(404) },
    },
  },
  "/accounts/{slug}/reconcile": {
    post: {
      operationId: "reconcileAccount", tags: ["reconcile"], summary: "Reconcile the account now", parameters: slug,
      responses: { 200: ok("The run's outcome (held: removals wait for approval).", ref("ReconcileResult")), ...errors(404) },
    },
  },
  "/accounts/{slug}/runs": {
    get: {
      operationId: "listRuns", tags: ["reconcile"], summary: "The account's last 50 runs (reconciles and pulls), newest first", parameters: slug,
      responses: { 200: ok("The runs.", object({ runs: list(ref("RunSummary")) })), ...errors(404) },
    },
  },
  "/runs/{id}": {
    get: {
      operationId: "getRun", tags: ["reconcile"], summary: "One run, with its stored plan", parameters: runId,
      responses: { 200: ok("The run.", object({ run: ref("Run") })), ...errors(404) },
    },
  },
  "/runs/{id}/approve": {
    post: {
      operationId: "approveRun", tags: ["reconcile"], summary: "Approve a held or superseded run (or one person's part): apply exactly the removals it showed that are still planned", parameters: runId,
      requestBody: body(ref("Decision")),
      responses: { 200: ok("The approved reconcile's outcome.", ref("ApproveResult")), ...errors(400, 404) },
    },
  },
  "/runs/{id}/reject": {
    post: {
      operationId: "rejectRun", tags: ["reconcile"], summary: "Reject a held or superseded run (or one person's part): those people keep their access until their IdP facts change or the rejection is lifted", parameters: runId,
      requestBody: body(ref("Decision")),
      responses: { 200: ok("Rejected.", ref("RejectResult")), ...errors(400, 404) },
    },
  },
  "/accounts/{slug}/kept": {
    get: {
      operationId: "listKeptAccess", tags: ["reconcile"], summary: "People who keep access by an operator's decision (rejected removals)", parameters: slug,
      responses: { 200: ok("One entry per person.", object({ kept: list(ref("KeptAccess")) })), ...errors(404) },
    },
  },
  "/accounts/{slug}/kept/lift": {
    post: {
      operationId: "liftRejections", tags: ["reconcile"], summary: "Lift rejections (all, or one person's): the next reconcile plans those removals again, through the brake", parameters: slug,
      requestBody: body(ref("Decision")),
      responses: { 200: ok("How many were lifted.", object({ lifted: int })), ...errors(400, 404) },
    },
  },

  "/accounts/{slug}/members": {
    get: {
      operationId: "listMembers", tags: ["review"], summary: "The account's members, their roles and domain grants", parameters: slug,
      responses: { 200: ok("Owners first, then admins, then members.", object({ members: list(ref("Member")) })), ...errors(404) },
    },
  },
  "/accounts/{slug}/review": {
    get: {
      operationId: "accessReview", tags: ["review"], summary: "Access review: who has what, granted by which rule and source, since when", parameters: slug,
      responses: { 200: ok("One entry per person.", object({ review: list(ref("AccessReviewEntry")) })), ...errors(404) },
    },
  },
  "/accounts/{slug}/audit": {
    get: {
      operationId: "listAudit", tags: ["review"], summary: "The account's audit log, newest first", parameters: [...slug, param("auditLimit"), param("auditBefore"), param("auditAction"), param("auditActor"), param("auditRun"), param("auditTarget"), param("auditEmail")],
      responses: { 200: ok("Audit entries.", object({ audit: list(ref("AuditEntry")) })), ...errors(400, 404) },
    },
  },
  "/accounts/{slug}/alerts": {
    get: {
      operationId: "listAlerts", tags: ["review"], summary: "The account's open (unresolved) alerts, newest first", parameters: slug,
      responses: { 200: ok("Open alerts.", object({ alerts: list(ref("Alert")) })), ...errors(404) },
    },
  },
  "/accounts/{slug}/keys": {
    get: {
      operationId: "listKeys", tags: ["app"], summary: "The account's API keys (revoked ones too), newest first", parameters: slug,
      responses: { 200: ok("Keys (never their secrets).", object({ keys: list(ref("ApiKey")) })), ...errors(404) },
    },
    post: {
      operationId: "createKey", tags: ["app"], summary: "Create an API key as a member (as the app would)", parameters: slug,
      requestBody: body(ref("NewKey"), undefined, true),
      responses: { 201: ok("The key, with its secret (shown once).", ref("CreatedKey")), ...errors(400, 404) },
    },
  },
  "/accounts/{slug}/sessions": {
    post: {
      operationId: "createSession", tags: ["app"], summary: "Create a browser session of a user (as the app would at sign-in)", parameters: slug,
      requestBody: body(ref("NewSession"), undefined, true),
      responses: { 201: ok("The session's id.", ref("Created")), ...errors(400, 404) },
    },
  },
  "/accounts/{slug}/invitations": {
    post: {
      operationId: "createInvitation", tags: ["app"], summary: "Invite someone to the account (as the app would); expires in 7 days", parameters: slug,
      requestBody: body(ref("NewInvitation"), undefined, true),
      responses: { 201: ok("The invitation's id.", ref("Created")), ...errors(400, 404) },
    },
  },

  "/accounts/{slug}/webhooks": {
    get: {
      operationId: "listWebhooks", tags: ["webhooks"], summary: "The account's webhook endpoints with their delivery counts", parameters: slug,
      responses: { 200: ok("Endpoints, oldest first.", object({ webhooks: list(ref("WebhookSummary")) })), ...errors(404) },
    },
    post: {
      operationId: "createWebhook", tags: ["webhooks"], summary: "Create a webhook endpoint: it receives the account's events from now on (no replay)", parameters: slug,
      requestBody: body(ref("NewWebhook"), undefined, true),
      responses: { 201: ok("Created.", object({ webhook: ref("Webhook") })), ...errors(400, 404) },
    },
  },
  "/webhooks/{id}/deliveries": {
    get: {
      operationId: "listWebhookDeliveries", tags: ["webhooks"], summary: "An endpoint's deliveries, newest event first",
      parameters: [param("webhookId"), param("deliveryStatus"), param("deliveryLimit")],
      responses: { 200: ok("Deliveries.", object({ deliveries: list(ref("WebhookDelivery")) })), ...errors(400, 404) },
    },
  },
  "/webhooks/{id}/disable": {
    post: {
      operationId: "disableWebhook", tags: ["webhooks"], summary: "Disable an endpoint: no new deliveries (pending ones stay unsent)", parameters: [param("webhookId")],
      responses: { 200: ok("The endpoint (disabled; unchanged if it already was).", object({ webhook: ref("Webhook") })), ...errors(404) },
    },
  },
};

export const ADMIN_OPENAPI: OpenApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "idsync admin API",
    version: ADMIN_API_VERSION,
    description: "What operators and the idsync CLI use: accounts, connections and SCIM tokens, rules, reconciles, pulls, webhooks, and review. "
      + "Every endpoint except /openapi.json needs an admin token (Authorization: Bearer …). Errors are RFC 9457 problem details. "
      + "JSON request bodies are limited to 1 MB.",
  },
  servers: [{ url: "/admin/v1" }],
  security: [{ adminToken: [] }],
  tags: [
    { name: "meta", description: "This document." },
    { name: "accounts", description: "Accounts (organizations) and their sending domains." },
    { name: "connections", description: "Directory connections and SCIM tokens." },
    { name: "pulls", description: "Running a Google or Graph pull now." },
    { name: "rules", description: "An account's mapping rules document." },
    { name: "reconcile", description: "Dry runs, reconciles and runs held by the removal brake." },
    { name: "review", description: "What operators review: members, access, audit, alerts." },
    { name: "webhooks", description: "Webhook endpoints that receive the account's events, and their deliveries." },
    { name: "app", description: "Creating what offboarding acts on: API keys, sessions, invitations." },
  ],
  paths: PATHS,
  components: {
    securitySchemes: {
      adminToken: { type: "http", scheme: "bearer", description: "An admin token: IDSYNC_ADMIN_TOKEN, or the one printed at first start." },
    },
    schemas: SCHEMAS,
    parameters: {
      slug: { name: "slug", in: "path", required: true, description: "The account's slug (case-insensitive).", schema: str },
      connectionId: { name: "id", in: "path", required: true, description: "The connection's id.", schema: uuid },
      runId: { name: "id", in: "path", required: true, description: "The run's id.", schema: uuid },
      auditLimit: { name: "limit", in: "query", description: "How many entries (default 100, at most 1000).", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
      webhookId: { name: "id", in: "path", required: true, description: "The webhook endpoint's id.", schema: uuid },
      deliveryStatus: { name: "status", in: "query", description: "Only deliveries in this status.", schema: { type: "string", enum: ["pending", "delivered", "failed"] } },
      deliveryLimit: { name: "limit", in: "query", description: "How many (default 100). Outside 1–1000: 400.", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
      auditBefore: { name: "before", in: "query", description: "Only entries with an id below this (paging back).", schema: int },
      auditAction: { name: "action", in: "query", description: "Only this action (key.revoked), or actions starting with a prefix ending in a dot (member.).", schema: str },
      auditActor: { name: "actor", in: "query", description: "Only entries by this actor (reconciler, operator:<token name>, …).", schema: str },
      auditRun: { name: "run", in: "query", description: "Only entries written by this run.", schema: uuid },
      auditTarget: { name: "target", in: "query", description: "Only entries about this target id (a user, key, connection…).", schema: str },
      auditEmail: { name: "email", in: "query", description: "Only entries about this person: rows targeting their user, their API keys, alerts about them, ownership handed to or from them. An email no user has: 404.", schema: str },
    },
    responses: {
      BadRequest: problemResponse("Bad Request: invalid input (the detail says which), malformed JSON, or a run that is not held."),
      Unauthorized: {
        ...problemResponse("Unauthorized: no admin token, or not a valid one."),
        headers: { "WWW-Authenticate": { description: "Bearer realm=\"idsync admin\"", schema: str } },
      },
      NotFound: problemResponse("Not Found: no such account, connection, run, user, webhook or stored rules."),
      Unprocessable: problemResponse("Invalid rules (every problem with its line) or invalid connection settings."),
      InternalError: problemResponse("Internal Server Error: the request failed; the server log has the cause."),
    },
  },
};

/**
 * GET /openapi.json: the document above. Mount it on the admin router BEFORE the admin token check,
 * so the spec can be read without a token (it describes the API; it holds no data and no secrets).
 */
export function openApiRoute(): express.Router {
  const router = express.Router();
  router.get("/openapi.json", (_req, res) => {
    res.json(ADMIN_OPENAPI);
  });
  return router;
}
