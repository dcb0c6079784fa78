// The four measured workloads of `npm run bench`, as autocannon runs that send the same requests to
// idsync and to the bare baseline (same routes, headers and bodies), 16 connections each:
//   get          GET /Users?filter=userName eq "user-<random>@…"   (a provisioning client's lookup)
//   post         POST /Users with a new userName every request     (creating users)
//   patch-small  PATCH /Groups/<small> adding one pool user         (membership change, 5,000 members)
//   patch-large  PATCH /Groups/<large> adding one pool user         (the same, 50,000 members)
// Each run is preceded by a 2 s warm-up that is not counted. Non-2xx answers and connection errors
// are failures; the first failing answer's body is kept to show what went wrong.
import os from "node:os";
import autocannon, { type RawRequest, type RequestSpec, type Result } from "autocannon";
import { addMembersBody, POOL_START, request, SCIM_JSON, USER_COUNT, userBody, userName } from "./preload.ts";

export const CONNECTIONS = 16;
export const WARMUP_SECONDS = 2;

export type WorkloadName = "get" | "post" | "patch-small" | "patch-large";
export type Side = "idsync" | "baseline";

export interface WorkloadSetup {
  scimToken: string;
  userIds: readonly string[];
  smallGroupId: string;
  largeGroupId: string;
}

export interface RunStats {
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; average: number; max: number };
  responses: number;
  failures: { non2xx: number; errors: number; timeouts: number };
  statusCodes: Record<string, number>;
  firstFailure?: string;
  seconds: number;
  /** 1-minute load average right after the run: other work on the machine skews the figures. */
  loadAverage: number;
  /** Set on a baseline run during which idsync could not be frozen. */
  idsyncRunning?: boolean;
}

export const WORKLOADS: ReadonlyArray<{ name: WorkloadName; label: string }> = [
  { name: "get", label: "GET /Users?filter=userName eq" },
  { name: "post", label: "POST /Users" },
  { name: "patch-small", label: "PATCH /Groups small (5k) +1" },
  { name: "patch-large", label: "PATCH /Groups large (50k) +1" },
];

// Shared across sides and warm-ups, so every PATCH adds a user its group does not have yet until
// the pool (users 50,000+) runs out; then it cycles, and re-adding is a no-op insert (still 204).
const poolCursor: Record<string, number> = { "patch-small": 0, "patch-large": 0 };
const postCounter: Record<Side, number> = { idsync: 0, baseline: 0 };
export const poolCycles = (): Record<string, number> =>
  Object.fromEntries(Object.entries(poolCursor).map(([k, v]) => [k, Math.floor(v / (USER_COUNT - POOL_START))]));

/** The group a PATCH workload adds members to (undefined for the others). */
export function patchedGroup(workload: string, setup: Pick<WorkloadSetup, "smallGroupId" | "largeGroupId">): string | undefined {
  return workload === "patch-small" ? setup.smallGroupId : workload === "patch-large" ? setup.largeGroupId : undefined;
}

function requestsFor(workload: WorkloadName, side: Side, setup: WorkloadSetup): RequestSpec[] {
  const poolSize = USER_COUNT - POOL_START;
  const nextPoolUser = (key: WorkloadName) => setup.userIds[POOL_START + (poolCursor[key]!++ % poolSize)]!;
  switch (workload) {
    case "get":
      return [{
        method: "GET",
        setupRequest: (req: RawRequest) => {
          const filter = `userName eq "${userName(Math.floor(Math.random() * USER_COUNT))}"`;
          return { ...req, path: `/scim/v2/Users?filter=${encodeURIComponent(filter)}` };
        },
      }];
    case "post":
      return [{
        method: "POST", path: "/scim/v2/Users",
        setupRequest: (req: RawRequest) => {
          const n = postCounter[side]++;
          return { ...req, body: userBody(`post-${side}-${n}@bench.example.com`, n) };
        },
      }];
    case "patch-small":
    case "patch-large": {
      const groupId = patchedGroup(workload, setup)!;
      return [{
        method: "PATCH", path: `/scim/v2/Groups/${groupId}`,
        setupRequest: (req: RawRequest) => ({ ...req, body: addMembersBody([nextPoolUser(workload)]) }),
      }];
    }
  }
}

async function cannon(baseUrl: string, workload: WorkloadName, side: Side, setup: WorkloadSetup, seconds: number): Promise<{ result: Result; firstFailure?: string }> {
  let firstFailure: string | undefined;
  const requests = requestsFor(workload, side, setup).map((spec) => ({
    ...spec,
    onResponse: (status: number, body: string) => {
      if ((status < 200 || status > 299) && firstFailure === undefined) firstFailure = `${status}: ${body.slice(0, 300)}`;
    },
  }));
  const result = await autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    headers: { Authorization: `Bearer ${setup.scimToken}`, "Content-Type": SCIM_JSON, Accept: SCIM_JSON },
    requests,
  });
  return { result, firstFailure };
}

/** Warm-up, then the measured run; `onMeasureStart` is called between the two (e.g. to start a profiler). */
export async function runWorkload(
  baseUrl: string, workload: WorkloadName, side: Side, setup: WorkloadSetup, seconds: number, onMeasureStart?: () => void,
): Promise<RunStats> {
  await cannon(baseUrl, workload, side, setup, WARMUP_SECONDS);
  onMeasureStart?.();
  const { result, firstFailure } = await cannon(baseUrl, workload, side, setup, seconds);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]));
  return {
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, average: result.latency.average, max: result.latency.max },
    responses: result.requests.total,
    failures: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
    statusCodes,
    ...(firstFailure ? { firstFailure } : {}),
    seconds: result.duration,
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

/** What one walk of every user by startIndex cost, as an import sees it (one client, one page at a time). */
export interface PagingStats {
  users: number;
  pageSize: number;
  pages: number;
  totalSeconds: number;
  /** the first page, the 1,000th (or the last, when there are fewer), and the slowest, in ms */
  firstPageMs: number;
  pageMs: { page: number; ms: number };
  slowestPageMs: number;
  /** mean ms per page over the first and the last 10 % of the walk */
  firstTenthMeanMs: number;
  lastTenthMeanMs: number;
  /** every user exactly once */
  complete: boolean;
}

/**
 * The paging workload: GET /Users?startIndex=1,101,201,…&count=100 until the end, as Okta's and
 * Entra's imports walk a directory. Sequential by nature (each page after the last), so not autocannon.
 */
export async function walkUsers(baseUrl: string, scimToken: string, pageSize = 100): Promise<PagingStats> {
  const headers = { Authorization: `Bearer ${scimToken}`, Accept: SCIM_JSON };
  const times: number[] = [];
  const ids = new Set<string>();
  let total = 0;
  const started = performance.now();
  for (let startIndex = 1; ; startIndex += pageSize) {
    const t0 = performance.now();
    const answer = await request("GET", `${baseUrl}/scim/v2/Users?startIndex=${startIndex}&count=${pageSize}`, headers, undefined, 200);
    times.push(performance.now() - t0);
    const page = JSON.parse(answer.body) as { totalResults: number; Resources?: Array<{ id: string }> };
    total = page.totalResults;
    for (const r of page.Resources ?? []) ids.add(r.id);
    if ((page.Resources?.length ?? 0) < pageSize || startIndex + pageSize > total) break;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const tenth = Math.max(1, Math.floor(times.length / 10));
  const at = Math.min(1000, times.length);
  const round = (ms: number) => Number(ms.toFixed(2));
  return {
    users: total, pageSize, pages: times.length, totalSeconds: round((performance.now() - started) / 1000),
    firstPageMs: round(times[0]!), pageMs: { page: at, ms: round(times[at - 1]!) }, slowestPageMs: round(Math.max(...times)),
    firstTenthMeanMs: round(mean(times.slice(0, tenth))), lastTenthMeanMs: round(mean(times.slice(-tenth))),
    complete: ids.size === total,
  };
}
