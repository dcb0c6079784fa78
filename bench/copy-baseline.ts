// The first apply's floor: every row that apply writes (users, identities, memberships, grants, an audit
// row and an event per action), built beforehand from the same plan and streamed with COPY into the
// real tables (their indexes, foreign keys, triggers and WAL), in one transaction whose deferred
// constraint triggers are fired (as a commit would) before it is rolled back. Nothing idsync does on top
// of that — planning, JSON, round trips, set-based statements — is in it.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { PlanAction } from "../src/reconcile/plan.ts";

type Value = string | number | null;

/** A value in COPY's text format. */
function field(value: Value): string {
  if (value === null) return "\\N";
  return String(value).replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

class Table {
  readonly lines: string[] = [];
  constructor(readonly name: string, readonly columns: readonly string[]) {}
  add(...values: Value[]): void {
    this.lines.push(values.map(field).join("\t"));
  }
}

const json = (value: unknown) => JSON.stringify(value ?? null);

/** The rows the plan's apply writes, as COPY text, table by table in the order of their foreign keys. */
function rowsOf(actions: readonly PlanAction[], accountId: string, runId: string): Table[] {
  const users = new Table("users", ["id", "email", "display_name"]);
  const identities = new Table("user_identities", ["idp_user_id", "user_id", "account_id", "linked_via", "linked_by_run_id"]);
  const memberships = new Table("memberships", ["id", "account_id", "user_id", "role", "managed_by_connection_id", "managed_by_rule", "managed_by_run_id"]);
  const grants = new Table("domain_grants", ["account_id", "membership_id", "domain_id", "access", "managed_by_connection_id", "managed_by_rule", "managed_by_run_id"]);
  const audit = new Table("audit_log", ["account_id", "actor", "action", "target_type", "target_id", "before", "after", "connection_id", "rule", "run_id"]);
  const events = new Table("events", ["account_id", "type", "payload", "run_id"]);
  const userIds = new Map<string, string>();
  const userId = (key: string) => userIds.get(key) ?? key;
  // the role each new member ends with (an ownership transfer promotes one of them)
  const roles = new Map<string, string>();
  for (const a of actions) {
    if (a.type === "create_user") userIds.set(a.key, randomUUID());
    if (a.type === "add_member") roles.set(userId(a.userKey), a.role);
  }
  for (const a of actions) if (a.type === "transfer_ownership") {
    if (a.from && roles.has(a.from)) roles.set(a.from, "admin");
    roles.set(userId(a.to), "owner");
  }
  const membershipIds = new Map<string, string>();
  for (const a of actions) {
    const connection = a.reason.connectionIds?.[0] ?? null;
    const rule = a.reason.rule ?? null;
    let target: { type: string; id: string } = { type: "user", id: ("userId" in a ? a.userId : undefined) ?? "" };
    let after: unknown = null;
    if (a.type === "create_user") {
      const id = userId(a.key);
      users.add(id, a.email, a.displayName);
      for (const idp of a.idpUserIds) identities.add(idp, id, accountId, "created", runId);
      target = { type: "user", id };
      after = { email: a.email, idpUserIds: a.idpUserIds };
    } else if (a.type === "link_identity") {
      identities.add(a.idpUserId, a.userId, accountId, a.via, runId);
      after = { idpUserId: a.idpUserId, via: a.via };
    } else if (a.type === "add_member") {
      const id = randomUUID();
      const user = userId(a.userKey);
      membershipIds.set(user, id);
      memberships.add(id, accountId, user, roles.get(user) ?? a.role, connection, rule, runId);
      target = { type: "user", id: user };
      after = { role: a.role };
    } else if (a.type === "grant_domain") {
      const user = userId(a.userKey);
      grants.add(accountId, membershipIds.get(user) ?? null, a.domainId, a.access, connection, rule, runId);
      target = { type: "user", id: user };
      after = { domainId: a.domainId, access: a.access };
    } else if (a.type === "transfer_ownership") {
      target = { type: "account", id: accountId };
      after = { owner: userId(a.to) };
    } else {
      const { reason: _reason, type: _type, ...rest } = a;
      after = rest;
    }
    const event = `${a.type}`;
    audit.add(accountId, "reconciler", event, target.type, target.id, null, json(after), connection, rule, runId);
    events.add(accountId, event, json({ target, before: null, after, reason: a.reason }), runId);
  }
  return [users, identities, memberships, grants, audit, events];
}

async function copyInto(client: pg.Client, table: Table): Promise<void> {
  if (table.lines.length === 0) return;
  const stream = client.query(copyFrom(`copy ${table.name} (${table.columns.join(", ")}) from stdin`));
  // in slices of 10,000 lines: one string of the whole table would be a few hundred MB
  async function* slices() {
    for (let i = 0; i < table.lines.length; i += 10_000) yield `${table.lines.slice(i, i + 10_000).join("\n")}\n`;
  }
  await pipeline(Readable.from(slices()), stream);
}

export interface CopyBaseline {
  readonly ms: number;
  /** Rows copied, by table. */
  readonly rows: Record<string, number>;
}

/** COPY of the rows `actions` write (built before the clock starts), rolled back. */
export async function copyBaseline(client: pg.Client, accountId: string, actions: readonly PlanAction[]): Promise<CopyBaseline> {
  const runId = randomUUID();
  const tables = rowsOf(actions, accountId, runId);
  const started = performance.now();
  await client.query("begin");
  try {
    await client.query(`insert into sync_runs (id, account_id, kind, status, trigger, counts) values ($1, $2, 'reconcile', 'running', 'bench', '{}'::jsonb)`, [runId, accountId]);
    for (const table of tables) await copyInto(client, table);
    // what a commit would check: the deferred constraint triggers (one owner per account)
    await client.query("set constraints all immediate");
    const ms = performance.now() - started;
    return { ms, rows: Object.fromEntries(tables.map((t) => [t.name, t.lines.length])) };
  } finally {
    await client.query("rollback");
  }
}
