// The fake's delta state machine, after Graph's: an initial round lists every live object; each deltaLink remembers
// the tenant snapshot its round started from, and a round from it lists only what differs now (changed objects with
// all selected properties, `@removed` changed/deleted, `members@delta` additions and removals). A round's pages are
// fixed when it starts, so a replayed page returns the same content, and its deltaLink is known from the start.
import { randomBytes } from "node:crypto";
import type { FakeTenant, TenantSnapshot } from "./tenant-model.ts";

export type DeltaResource = "users" | "groups";

const DEFAULT_SELECT: Record<DeltaResource, string[]> = {
  // accountEnabled is not a default property, as in Graph
  users: ["id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "jobTitle"],
  groups: ["id", "displayName", "description", "mail", "groupTypes", "securityEnabled"],
};

type Entry = Record<string, unknown>;

interface Round {
  readonly resource: DeltaResource;
  readonly pages: Entry[][];
  readonly deltaToken: string;
}

interface DeltaState {
  readonly resource: DeltaResource;
  readonly select: readonly string[];
  readonly snapshot: TenantSnapshot;
}

export interface PageLinks { nextToken?: string; deltaToken?: string }

/** Server-side knobs the engine reads on every new round. */
export interface EngineKnobs {
  pageSize: Record<DeltaResource, number>;
  /** A group's members are split into entries of at most this many (a large group spans pages). */
  membersPerEntry: number;
  /** Serve each new round's first page twice (a replay the client must absorb). */
  replayFirstPage: boolean;
}

function token(): string {
  return randomBytes(18).toString("base64url");
}

function pick(source: object, select: readonly string[]): Entry {
  const out: Entry = {};
  for (const key of select) {
    if (key === "members") continue;
    const value = (source as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) out[key] = value; // never-set properties are left out, as in Graph
  }
  return out;
}

function sameSelected(a: object, b: object, select: readonly string[]): boolean {
  return JSON.stringify(pick(a, select)) === JSON.stringify(pick(b, select));
}

export class DeltaEngine {
  private readonly rounds = new Map<string, { round: Round; page: number }>();
  private readonly states = new Map<string, DeltaState>();

  constructor(private readonly tenant: FakeTenant, private readonly knobs: EngineKnobs) {}

  /** Forget every delta and skip token: the next use of any of them is a 410. */
  expireAll(): void {
    this.rounds.clear();
    this.states.clear();
  }

  /** First page of a new round: from scratch (`since` null) or since a known deltaToken; null for an unknown token. */
  start(resource: DeltaResource, selectParam: string | null, since: string | null): { entries: Entry[]; links: PageLinks } | null {
    let select: readonly string[];
    let from: TenantSnapshot | null = null;
    if (since === null) {
      select = selectParam ? ["id", ...selectParam.split(",").map((s) => s.trim()).filter((s) => s && s !== "id")] : DEFAULT_SELECT[resource];
    } else {
      const state = this.states.get(since);
      if (!state || state.resource !== resource) return null;
      select = state.select;
      from = state.snapshot;
    }
    const now = this.tenant.snapshot();
    const entries = resource === "users" ? this.userEntries(from, now, select) : this.groupEntries(from, now, select);
    const size = Math.max(1, this.knobs.pageSize[resource]);
    const pages: Entry[][] = [];
    for (let i = 0; i < entries.length; i += size) pages.push(entries.slice(i, i + size));
    if (pages.length === 0) pages.push([]);
    if (this.knobs.replayFirstPage && pages.length > 1) pages.splice(1, 0, pages[0]!);
    const deltaToken = token();
    this.states.set(deltaToken, { resource, select, snapshot: now });
    return this.page({ resource, pages, deltaToken }, 0);
  }

  /** Just a deltaLink for the tenant as it is now (`$deltatoken=latest`). */
  latest(resource: DeltaResource, selectParam: string | null): string {
    const select = selectParam ? ["id", ...selectParam.split(",").filter((s) => s && s !== "id")] : DEFAULT_SELECT[resource];
    const deltaToken = token();
    this.states.set(deltaToken, { resource, select, snapshot: this.tenant.snapshot() });
    return deltaToken;
  }

  /** A page of a running round by its skip token; null for an unknown token. Replaying a token gives the same page. */
  next(resource: DeltaResource, skipToken: string): { entries: Entry[]; links: PageLinks } | null {
    const at = this.rounds.get(skipToken);
    if (!at || at.round.resource !== resource) return null;
    return this.page(at.round, at.page);
  }

  private page(round: Round, index: number): { entries: Entry[]; links: PageLinks } {
    const entries = round.pages[index]!;
    if (index === round.pages.length - 1) return { entries, links: { deltaToken: round.deltaToken } };
    const nextToken = token();
    this.rounds.set(nextToken, { round, page: index + 1 });
    return { entries, links: { nextToken } };
  }

  private userEntries(from: TenantSnapshot | null, now: TenantSnapshot, select: readonly string[]): Entry[] {
    const out: Entry[] = [];
    for (const [id, r] of now.users) {
      const before = from?.users.get(id);
      if (r.state === "active") {
        if (!before || before.state !== "active" || !sameSelected(before.user, r.user, select)) out.push({ ...pick(r.user, select), id });
      } else if (from && before?.state === "active") {
        out.push({ id, "@removed": { reason: "changed" } });
      }
    }
    for (const id of from?.users.keys() ?? []) {
      if (!now.users.has(id)) out.push({ id, "@removed": { reason: "deleted" } });
    }
    return out;
  }

  private groupEntries(from: TenantSnapshot | null, now: TenantSnapshot, select: readonly string[]): Entry[] {
    const withMembers = select.includes("members");
    const out: Entry[] = [];
    for (const [id, r] of now.groups) {
      const before = from?.groups.get(id);
      if (r.state !== "active") {
        if (from && before?.state === "active") out.push({ id, "@removed": { reason: "changed" } });
        continue;
      }
      const wasLive = before?.state === "active";
      const added = [...r.members].filter((m) => !wasLive || !before!.members.has(m));
      const removed = wasLive ? [...before!.members].filter((m) => !r.members.has(m)) : [];
      const propsChanged = !wasLive || !sameSelected(before!.group, r.group, select);
      if (!propsChanged && (!withMembers || added.length + removed.length === 0)) continue;
      const members = withMembers ? [
        ...added.map((m) => ({ "@odata.type": this.tenant.odataType(m, from ?? undefined), id: m })),
        ...removed.map((m) => ({ "@odata.type": this.tenant.odataType(m, from ?? undefined), id: m, "@removed": { reason: "deleted" } })),
      ] : [];
      const chunk = Math.max(1, this.knobs.membersPerEntry);
      out.push({ ...pick(r.group, select), id, ...(withMembers ? { "members@delta": members.slice(0, chunk) } : {}) });
      // the rest of a large group follows as id + members@delta slices, as Graph spreads big groups over pages
      for (let i = chunk; i < members.length; i += chunk) out.push({ id, "members@delta": members.slice(i, i + chunk) });
    }
    for (const id of from?.groups.keys() ?? []) {
      if (!now.groups.has(id)) out.push({ id, "@removed": { reason: "deleted" } });
    }
    return out;
  }
}
