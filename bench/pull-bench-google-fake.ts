// Helper of pull-bench.ts, measures nothing itself: a Google Directory API fake sized for 50,000 users, 5,000 groups
// and 500,000 memberships, run in a child process so its CPU and memory stay out of the pull's figures.
// Why not test/fakes/google's fake: it re-renders the whole directory on every request (every page of groups.list
// renders all groups, and each of them rebuilds a 50,000-user map to count its members), which at this size costs
// ~95 s per groups.list page and ~0.7 s per users.list page. This one answers the same requests the same way:
// users.list (maxResults ≤ 500, showDeleted, deleted users left out of the normal listing), groups.list and
// members.list (≤ 200), opaque one-use-scope page tokens, the collection key omitted when empty, `fields` applied by
// the test fake's own field-selection.ts, users rendered by its renderUser, Google's error bodies for a missing or
// wrong bearer and bad input. It just renders each page from precomputed lists. Call counts are its own.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { emptyDirectory, renderUser, type FakeDirectory, type FakeMember, type FakeUser } from "../test/fakes/google/fake-directory.ts";
import { parseFields, selectFields } from "../test/fakes/google/field-selection.ts";
import { invalidCredentials, invalidInput, loginRequired, notFound, type FakeErrorResponse } from "../test/fakes/google/google-error-bodies.ts";
import { seededRandom } from "../test/fakes/seeded-random.ts";

export const BENCH_TOKEN = "ya29.pull-bench-static-token";
export const BENCH_ADMIN = "admin@bench.example.com";
const API = "/admin/directory/v1";

export interface DirectorySize {
  /** Users the normal listing returns (active, suspended and archived). */
  readonly users: number;
  /** Deleted users, seen only with showDeleted=true. */
  readonly deletedUsers: number;
  readonly groups: number;
  /** Direct USER memberships in all. */
  readonly memberships: number;
}

/** What the parent needs to know about the directory: the expected pull and the page arithmetic. */
export interface DirectoryShape {
  readonly liveUsers: number;
  readonly deletedUsers: number;
  readonly groups: number;
  readonly userMemberships: number;
  readonly groupMemberships: number;
  /** Rendered direct members per group (what members.list pages through). */
  readonly memberCounts: number[];
  readonly largest: number[];
}

export interface FakeStats {
  readonly api: number;
  readonly byKind: Record<string, number>;
  readonly maxConcurrent: number;
  readonly errors: number;
}

/**
 * A directory with the skew of a real one: one all-staff group (40 % of users), 1 % of the groups departmental
 * (1,000-4,000 members, several pages each), a few empty groups and a few of exactly 200/201 members (page edges),
 * the rest small; 1 % of the groups also hold a sub-group. Every 31st user suspended, every 53rd archived.
 */
export function buildBenchDirectory(size: DirectorySize, seed = 42): FakeDirectory {
  const random = seededRandom(seed);
  const dir = emptyDirectory("C01bench01", "bench.example.com");
  const total = size.users + size.deletedUsers;
  // deleted users spread evenly through the id range (user 0, the admin, never)
  const deletedAt = new Set(Array.from({ length: size.deletedUsers }, (_, k) => Math.max(1, Math.floor(((k + 0.5) * total) / size.deletedUsers))));
  const live: FakeUser[] = [];
  for (let i = 0; i < total; i += 1) {
    const deleted = deletedAt.has(i);
    const user: FakeUser = {
      id: (10n ** 20n + BigInt(i) * 7919n).toString(), primaryEmail: i === 0 ? BENCH_ADMIN : `user${i}@${dir.domain}`,
      givenName: `Given${i % 97}`, familyName: `Family${i % 89}`, isAdmin: i === 0, department: `Dept ${i % 20}`,
      employeeId: `E${String(i).padStart(6, "0")}`, orgUnitPath: "/",
      ...(i > 0 && i % 31 === 0 ? { suspended: true } : {}), ...(i > 0 && i % 53 === 0 ? { archived: true } : {}),
      ...(deleted ? { deletionTime: "2026-11-10T12:00:00.000Z" } : {}),
    };
    if (!deleted) live.push(user);
    dir.users.push(user);
  }
  for (let j = 0; j < size.groups; j += 1) {
    const id = `0${(36 ** 10 + j * 104729).toString(36)}`.slice(0, 15).padEnd(15, "0");
    dir.groups.push({ id, email: `group${j}@${dir.domain}`, name: `Group ${j}`, aliases: [`g${j}@${dir.domain}`] });
    dir.members.set(id, []);
  }
  // sizes: fixed tiers first, then the rest spread at random over the remaining groups
  const sizes = new Array<number>(size.groups).fill(0);
  let left = size.memberships;
  const give = (j: number, n: number) => { const m = Math.min(n, left, live.length); sizes[j] = m; left -= m; };
  const fixedTier = new Set<number>();
  if (size.groups > 0) { give(0, Math.round(live.length * 0.4)); fixedTier.add(0); }
  const departments = Math.floor(size.groups / 100);
  for (let d = 1; d <= departments && d < size.groups; d += 1) { give(d, 1000 + Math.floor(random() * 3000)); fixedTier.add(d); }
  for (const [j, n] of [[departments + 1, 200], [departments + 2, 201], [departments + 3, 400], [departments + 4, 0], [departments + 5, 0]] as const) {
    if (j < size.groups) { give(j, n); fixedTier.add(j); }
  }
  const rest = [...Array(size.groups).keys()].filter((j) => !fixedTier.has(j));
  const weights = rest.map(() => 0.2 + random() * random() * 3.6);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const share = left;
  rest.forEach((j, k) => give(j, Math.floor((share * weights[k]!) / weightSum)));
  // rounding leftovers: one more member each, in turn, for groups that are not yet the whole directory
  for (let k = 0, stuck = 0; left > 0 && stuck < rest.length; k = (k + 1) % rest.length) {
    const j = rest[k]!;
    if (sizes[j]! < live.length) { sizes[j] = sizes[j]! + 1; left -= 1; stuck = 0; } else stuck += 1;
  }
  // members: a run of distinct users from a random start with a stride coprime to the user count
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const strides = [1, 7, 11, 13, 17, 19, 23, 29, 37, 41].filter((s) => gcd(s, live.length) === 1);
  dir.groups.forEach((group, j) => {
    const list = dir.members.get(group.id)!;
    const start = Math.floor(random() * live.length);
    const stride = strides[Math.floor(random() * strides.length)]!;
    for (let k = 0; k < sizes[j]!; k += 1) list.push({ id: live[(start + k * stride) % live.length]!.id, type: "USER", ...(k === 0 ? { role: "OWNER" } : {}) });
  });
  // nested groups: every 100th group holds the next one
  for (let j = 50; j + 1 < size.groups; j += 100) dir.members.get(dir.groups[j]!.id)!.push({ id: dir.groups[j + 1]!.id, type: "GROUP" });
  return dir;
}

export function describeDirectory(dir: FakeDirectory): DirectoryShape {
  const live = dir.users.filter((u) => !u.deletionTime);
  const memberCounts = dir.groups.map((g) => dir.members.get(g.id)!.length);
  let userMemberships = 0, groupMemberships = 0;
  for (const list of dir.members.values()) for (const m of list) if (m.type === "USER") userMemberships += 1; else groupMemberships += 1;
  return { liveUsers: live.length, deletedUsers: dir.users.length - live.length, groups: dir.groups.length, userMemberships, groupMemberships,
    memberCounts, largest: [...memberCounts].sort((a, b) => b - a).slice(0, 5) };
}

interface Answer { status: number; body: unknown }

/** Serves `dir` (read-only from here on); only `staticToken` is accepted as bearer. */
export async function serveDirectory(dir: FakeDirectory, staticToken = BENCH_TOKEN) {
  const usersById = new Map(dir.users.map((u) => [u.id, u]));
  const groupsById = new Map(dir.groups.map((g) => [g.id, g]));
  const groupsByKey = new Map<string, (typeof dir.groups)[number]>();
  for (const g of dir.groups) for (const key of [g.id, g.email.toLowerCase(), ...(g.aliases ?? []).map((a) => a.toLowerCase())]) groupsByKey.set(key, g);
  const liveUsers = dir.users.filter((u) => !u.deletionTime);
  const deletedUsers = dir.users.filter((u) => u.deletionTime);
  const renderedMembers = new Map<string, FakeMember[]>();
  for (const [groupId, list] of dir.members) {
    renderedMembers.set(groupId, list.filter((m) => m.type !== "USER" || !usersById.get(m.id)?.deletionTime));
  }
  const pages = new Map<string, { scope: string; offset: number }>();
  const stats = { api: 0, byKind: {} as Record<string, number>, maxConcurrent: 0, errors: 0 };
  let inFlight = 0;

  const renderMember = (groupId: string, m: FakeMember): Record<string, unknown> => {
    const base = { kind: "admin#directory#member", etag: `"etag-${groupId}-${m.id}"`, id: m.id, role: m.role ?? "MEMBER", type: m.type };
    if (m.type === "GROUP") return { ...base, email: groupsById.get(m.id)?.email ?? m.email, status: "ACTIVE" };
    if (m.type === "CUSTOMER") return { ...base, id: dir.customerId, status: "ACTIVE" };
    const user = usersById.get(m.id);
    return user ? { ...base, email: user.primaryEmail, status: user.suspended ? "SUSPENDED" : "ACTIVE" } : { ...base, email: m.email };
  };
  const renderGroup = (g: (typeof dir.groups)[number]) => ({
    kind: "admin#directory#group", id: g.id, etag: `"etag-${g.id}"`, email: g.email, name: g.name, description: g.description ?? "",
    directMembersCount: String(renderedMembers.get(g.id)!.length), adminCreated: true,
    ...(g.aliases?.length ? { aliases: g.aliases } : {}), nonEditableAliases: [`${g.email}.test-google-a.com`],
  });

  function page<T>(q: URLSearchParams, scope: string, items: readonly T[], max: number, fallback: number, key: string, kind: string,
    render: (item: T) => unknown): Answer | FakeErrorResponse {
    const raw = q.get("maxResults");
    const size = raw === null ? fallback : Number(raw);
    if (!Number.isInteger(size) || size < 1 || size > max) return invalidInput("maxResults");
    let offset = 0;
    const token = q.get("pageToken");
    if (token) {
      const state = pages.get(token);
      if (!state || state.scope !== scope) return invalidInput("pageToken");
      offset = state.offset;
    }
    const body: Record<string, unknown> = { kind, etag: `"etag-${scope.length}-${offset}"` };
    const slice = items.slice(offset, offset + size).map(render);
    if (slice.length > 0) body[key] = slice;
    if (offset + size < items.length) {
      const next = crypto.randomBytes(18).toString("base64url");
      pages.set(next, { scope, offset: offset + size });
      body.nextPageToken = next;
    }
    const fields = q.get("fields");
    if (!fields) return { status: 200, body };
    try {
      return { status: 200, body: selectFields(body, parseFields(fields)) };
    } catch {
      return invalidInput(`Invalid field selection ${fields}`);
    }
  }

  function route(path: string, q: URLSearchParams): { kind: string; answer: Answer | FakeErrorResponse } {
    if (path === `${API}/users`) {
      if (q.get("customer") !== "my_customer" && q.get("customer") !== dir.customerId) return { kind: "users", answer: notFound("customer") };
      if (q.get("query")) return { kind: "users", answer: invalidInput("query (not served by the bench fake)") };
      const deleted = q.get("showDeleted") === "true";
      return { kind: deleted ? "users showDeleted" : "users",
        answer: page(q, `users|${deleted}`, deleted ? deletedUsers : liveUsers, 500, 100, "users", "admin#directory#users", (u) => renderUser(dir, u)) };
    }
    if (path === `${API}/groups`) {
      if (q.get("customer") !== "my_customer" && q.get("customer") !== dir.customerId) return { kind: "groups", answer: notFound("customer") };
      if (q.get("query")) return { kind: "groups", answer: invalidInput("query (not served by the bench fake)") };
      return { kind: "groups", answer: page(q, "groups", dir.groups, 200, 200, "groups", "admin#directory#groups", renderGroup) };
    }
    const members = new RegExp(`^${API}/groups/([^/]+)/members$`).exec(path);
    if (members) {
      const key = decodeURIComponent(members[1]!);
      const group = groupsByKey.get(key) ?? groupsByKey.get(key.toLowerCase());
      if (!group) return { kind: "members", answer: notFound("groupKey") };
      return { kind: "members", answer: page(q, `members|${group.id}`, renderedMembers.get(group.id)!, 200, 200, "members", "admin#directory#members",
        (m) => renderMember(group.id, m)) };
    }
    return { kind: "other", answer: notFound(path) };
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    stats.api += 1;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, ++inFlight);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    let kind = "unauthorized";
    let out: Answer | FakeErrorResponse;
    if (!bearer) out = loginRequired();
    else if (bearer !== staticToken) out = invalidCredentials();
    else if (req.method !== "GET") out = notFound(url.pathname);
    else ({ kind, answer: out } = route(url.pathname, url.searchParams));
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    if (out.status !== 200) stats.errors += 1;
    const body = JSON.stringify(out.body);
    // answered on the next turn, as a server that reads the body first would: lets in-flight requests overlap
    setImmediate(() => {
      inFlight -= 1;
      res.writeHead(out.status, { "content-type": "application/json; charset=UTF-8" });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: (): FakeStats => ({ ...stats, byKind: { ...stats.byKind } }),
    reset: () => { stats.api = 0; stats.byKind = {}; stats.maxConcurrent = 0; stats.errors = 0; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// As a child of pull-bench.ts: build, serve, answer "stats"/"reset"/"close" messages over IPC.
if (process.send && process.env.PULL_BENCH_FAKE_CHILD === "1") {
  const size = JSON.parse(process.env.PULL_BENCH_SIZE ?? "{}") as DirectorySize;
  const started = performance.now();
  const dir = buildBenchDirectory(size);
  const shape = describeDirectory(dir);
  const fake = await serveDirectory(dir);
  process.send({ type: "ready", url: fake.url, shape, buildMs: performance.now() - started, rssMiB: process.memoryUsage().rss / 2 ** 20 });
  process.on("message", (message: { type: string; id: number }) => {
    if (message.type === "stats") process.send!({ type: "stats", id: message.id, stats: fake.stats() });
    else if (message.type === "reset") { fake.reset(); process.send!({ type: "reset", id: message.id }); }
    else if (message.type === "close") void fake.close().then(() => process.exit(0));
  });
  process.on("disconnect", () => process.exit(0));
}
