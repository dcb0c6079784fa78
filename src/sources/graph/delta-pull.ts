// One Graph delta pull: a users round and a groups-with-members round, each from its stored deltaLink (or from the
// start when there is none), folded into the DeltaPull the snapshot stage applies; or a full round streamed page by
// page into a staging (streamFullDeltaRound), so a large tenant's first pull is not held in memory. Entries are applied in order and
// keyed on object ids, so a replayed page or an object listed twice changes nothing; any failure throws one of the
// pull errors and hands over nothing, and the caller keeps its old deltaLinks.
import type { TokenCredential } from "@azure/identity";
import type { DeltaPull, FullPullPage, FullPullStream, PulledGroup, PulledMembership, PulledUser } from "../../snapshot/pulled-directory.ts";
import { PageChannel } from "../page-channel.ts";
import { GROUP_SELECT, readGroupEntry, readUserEntry, USER_SELECT, type RemovedReason } from "./delta-entries.ts";
import { readDeltaRound, walkDeltaRound, type DeltaRound } from "./delta-round.ts";
import { trustExtraCa } from "./extra-ca-trust.ts";
import type { GraphConnectionConfig } from "./graph-config.ts";
import { makeGraphClient, type CountedGraphClient } from "./graph-client.ts";
import { makeGraphCredential } from "./graph-credential.ts";
import { toPullError } from "./graph-errors.ts";
import { DEFAULT_RETRY_POLICY, type GraphThrottleSignal, type RetryPolicy } from "./graph-retry.ts";

/** What a pull needs besides the connection; everything is optional in production. */
export interface GraphPullDeps {
  /** Where `credentials.secretEnv` is looked up; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** A credential kept across pulls (its token cache saves a token request per pull); built from config if absent. */
  readonly credential?: TokenCredential;
  /** Tests and the demo: a PEM CA to trust for this connection (the local fake's); see extra-ca-trust.ts. */
  readonly trustedCaPem?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Called for every 429 and every answer carrying `x-ms-throttle-limit-percentage`. */
  readonly onThrottle?: (signal: GraphThrottleSignal) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** The stored links of the previous round; both null for an initial or forced full round. */
export interface GraphDeltaLinks {
  readonly usersDeltaLink: string | null;
  readonly groupsDeltaLink: string | null;
}

async function connect(config: GraphConnectionConfig, deps: GraphPullDeps): Promise<CountedGraphClient> {
  const trust = deps.trustedCaPem ? await trustExtraCa(deps.trustedCaPem) : undefined;
  const credential = deps.credential ?? makeGraphCredential(config, deps.env, trust);
  return makeGraphClient(credential,
    { policy: { ...DEFAULT_RETRY_POLICY, ...deps.retry }, onThrottle: deps.onThrottle, sleep: deps.sleep, random: deps.random },
    { fakeOrigin: config.fakeOrigin, fetchOptions: trust?.fetchOptions });
}

async function round(graph: CountedGraphClient, config: GraphConnectionConfig, resource: "users" | "groups",
  start: string): Promise<DeltaRound> {
  return readDeltaRound(graph.client, graph.origin, resource, start).catch(readFailure(graph, config, resource));
}

const readFailure = (graph: CountedGraphClient, config: GraphConnectionConfig, resource: "users" | "groups") => (error: unknown) => {
  throw toPullError(error, { resource, clientId: config.clientId, tenantId: config.tenantId,
    secretEnv: config.credentials.secretEnv, certificateFile: config.credentials.certificateFile, calls: graph.counter.calls });
};

function foldUsers(entries: readonly unknown[]) {
  const latest = new Map<string, { user: PulledUser } | { removed: RemovedReason }>();
  for (const value of entries) {
    const entry = readUserEntry(value);
    const id = entry.kind === "user" ? entry.user.sourceId : entry.sourceId;
    latest.delete(id); // re-insert: the last word on an object wins, and keeps its place in the order
    latest.set(id, entry.kind === "user" ? { user: entry.user } : { removed: entry.reason });
  }
  const changedUsers: PulledUser[] = [];
  const removedUsers: Array<{ sourceId: string; reason: RemovedReason }> = [];
  for (const [sourceId, state] of latest) {
    if ("user" in state) changedUsers.push(state.user);
    else removedUsers.push({ sourceId, reason: state.removed });
  }
  return { changedUsers, removedUsers };
}

function foldGroups(entries: readonly unknown[], inScope: (groupId: string) => boolean) {
  const groups = new Map<string, PulledGroup | "removed">();
  const edges = new Map<string, { edge: PulledMembership; present: boolean }>();
  const note = (edge: PulledMembership, present: boolean) => {
    const key = `${edge.groupSourceId}\u0000${edge.memberSourceId}`;
    edges.delete(key);
    edges.set(key, { edge, present });
  };
  for (const value of entries) {
    const entry = readGroupEntry(value);
    if (!inScope(entry.sourceId)) continue;
    if (entry.kind === "removed") {
      groups.delete(entry.sourceId);
      groups.set(entry.sourceId, "removed");
      continue;
    }
    if (entry.group) {
      groups.delete(entry.sourceId);
      groups.set(entry.sourceId, entry.group);
    }
    for (const edge of entry.added) note(edge, true);
    for (const edge of entry.removed) note(edge, false);
  }
  const changedGroups = [...groups.values()].filter((g): g is PulledGroup => g !== "removed");
  const removedGroupSourceIds = [...groups].filter(([, g]) => g === "removed").map(([id]) => id);
  const all = [...edges.values()];
  return {
    changedGroups, removedGroupSourceIds,
    addedMemberships: all.filter((e) => e.present).map((e) => e.edge),
    removedMemberships: all.filter((e) => !e.present).map((e) => e.edge),
  };
}

/**
 * One delta round for users and for groups with their direct members. With both links null (or either one: a
 * half-tracked state cannot be swept safely, so both restart) it lists everything and `full` is true. Persist the
 * returned links only after the changes are applied.
 */
export async function deltaPull(config: GraphConnectionConfig, deps: GraphPullDeps, links: GraphDeltaLinks): Promise<DeltaPull> {
  const full = links.usersDeltaLink === null || links.groupsDeltaLink === null;
  const graph = await connect(config, deps);
  const users = await round(graph, config, "users",
    full ? `/users/delta?$select=${USER_SELECT.join(",")}` : links.usersDeltaLink!);
  const groups = await round(graph, config, "groups",
    full ? `/groups/delta?$select=${GROUP_SELECT.join(",")}` : links.groupsDeltaLink!);
  const scope = config.groupFilter ? new Set(config.groupFilter) : null;
  return {
    ...foldUsers(users.entries),
    ...foldGroups(groups.entries, (id) => scope === null || scope.has(id)),
    full,
    usersDeltaLink: users.deltaLink,
    groupsDeltaLink: groups.deltaLink,
    calls: graph.counter.calls,
  };
}

/** The pages a full round hands a staging: what is listed, and what Graph takes back as `@removed` later in the round. */
type PageKind = "users" | "groups" | "memberships" | "unlistedUsers" | "unlistedGroups" | "unlistedMemberships";

/** Entries per page handed on: about five Graph pages of users, so the staging writes full batches. */
export const SEGMENT_ENTRIES = 1_000;

/**
 * Groups consecutive entries of one kind into pages, in the order Graph gave them: a removal that follows a
 * listing of the same object must reach the staging after it (and a listing after a removal, after that).
 * A page is handed on when the kind changes or it holds SEGMENT_ENTRIES: a round's users are all of one
 * kind, and without the cap they were one page, the whole directory in memory before the first write.
 */
class PageSegments {
  private kind: PageKind | null = null;
  private items: unknown[] = [];

  constructor(private readonly push: (page: FullPullPage) => Promise<void>) {}

  async add(kind: PageKind, item: unknown): Promise<void> {
    if (kind !== this.kind || this.items.length >= SEGMENT_ENTRIES) await this.flush();
    this.kind = kind;
    this.items.push(item);
  }

  async flush(): Promise<void> {
    const { kind, items } = this;
    this.kind = null;
    this.items = [];
    if (kind === null || items.length === 0) return;
    if (kind === "users") return this.push({ kind: "users", users: items as PulledUser[] });
    if (kind === "groups") return this.push({ kind: "groups", groups: items as PulledGroup[] });
    if (kind === "memberships") return this.push({ kind: "memberships", memberships: items as PulledMembership[] });
    const none: never[] = [];
    return this.push({
      kind: "unlisted",
      users: kind === "unlistedUsers" ? (items as string[]) : none,
      groups: kind === "unlistedGroups" ? (items as string[]) : none,
      memberships: kind === "unlistedMemberships" ? (items as PulledMembership[]) : none,
    });
  }
}

/** A full round (no delta links: the first pull, or a resync) read page by page, and the next round's links once read. */
export interface FullDeltaStream extends FullPullStream {
  /** Set when the iteration has ended without error. */
  readonly links: { readonly usersDeltaLink: string; readonly groupsDeltaLink: string } | null;
}

/**
 * A full delta round as pages for a staging (src/snapshot/pull-staging.ts), so a large tenant's first pull holds a
 * few pages in memory, not the directory: users, then groups in scope with their members@delta. What the round
 * reports `@removed` comes as "unlisted" pages, in order, so the staging keeps the last word on each object as
 * the in-memory fold does. Iterating makes the requests; failures are the same pull errors as deltaPull's.
 */
export function streamFullDeltaRound(config: GraphConnectionConfig, deps: GraphPullDeps = {}): FullDeltaStream {
  let graph: CountedGraphClient | null = null;
  let links: FullDeltaStream["links"] = null;
  // 16 pages queued: the reads go on while a staging insert runs
  const channel = new PageChannel<FullPullPage>(16);
  const scope = config.groupFilter ? new Set(config.groupFilter) : null;
  let started = false;
  const produce = async () => {
    const g = (graph = await connect(config, deps));
    const segments = new PageSegments((page) => channel.push(page));
    const usersDeltaLink = await walkDeltaRound(g.client, g.origin, "users", `/users/delta?$select=${USER_SELECT.join(",")}`, async (entries) => {
      for (const value of entries) {
        const entry = readUserEntry(value);
        if (entry.kind === "user") await segments.add("users", entry.user);
        else await segments.add("unlistedUsers", entry.sourceId);
      }
    }).catch(readFailure(g, config, "users"));
    await segments.flush();
    const groupsDeltaLink = await walkDeltaRound(g.client, g.origin, "groups", `/groups/delta?$select=${GROUP_SELECT.join(",")}`, async (entries) => {
      for (const value of entries) {
        const entry = readGroupEntry(value);
        if (scope !== null && !scope.has(entry.sourceId)) continue;
        if (entry.kind === "removed") {
          await segments.add("unlistedGroups", entry.sourceId);
          continue;
        }
        if (entry.group) await segments.add("groups", entry.group);
        for (const edge of entry.added) await segments.add("memberships", edge);
        for (const edge of entry.removed) await segments.add("unlistedMemberships", edge);
      }
    }).catch(readFailure(g, config, "groups"));
    await segments.flush();
    links = { usersDeltaLink, groupsDeltaLink };
  };
  return {
    get calls() {
      return graph?.counter.calls ?? 0;
    },
    get links() {
      return links;
    },
    [Symbol.asyncIterator]() {
      // the reads start when the consumer starts: a stream nobody iterates makes no request
      if (!started) {
        started = true;
        produce().then(() => channel.end(), (error: unknown) => channel.end(error));
      }
      return channel[Symbol.asyncIterator]();
    },
  };
}
