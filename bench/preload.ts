// Preload for `npm run bench`: fills idsync through its own SCIM API (as an IdP would) with 60,000
// users and two groups, "small" (users 0–4,999) and "large" (users 0–49,999). The issue asks for
// groups of 5,000 and 50,000 members; a 50,000-member group needs 50,000 users, and the PATCH
// workloads need users that are in neither group, hence 60,000 (50,000+ are the PATCH pool).
// Requests go over keep-alive HTTP with ~16 in flight.
import http from "node:http";

// BENCH_USERS (default 60,000) shrinks the preload for trial runs; the groups scale with it (5/6 and 1/12).
export const USER_COUNT = Number(process.env.BENCH_USERS || 60_000);
if (!Number.isInteger(USER_COUNT) || USER_COUNT < 12) throw new Error(`BENCH_USERS must be a whole number ≥ 12, got "${process.env.BENCH_USERS}"`);
export const LARGE_GROUP_SIZE = Math.min(50_000, Math.round((USER_COUNT * 5) / 6));
export const SMALL_GROUP_SIZE = Math.min(5_000, Math.round(LARGE_GROUP_SIZE / 10));
export const POOL_START = LARGE_GROUP_SIZE;
const IN_FLIGHT = 16;
const MEMBER_BATCH = 1_000;

export const SCIM_JSON = "application/scim+json";
export const URN = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  patchOp: "urn:ietf:params:scim:api:messages:2.0:PatchOp",
};

export const userName = (n: number) => `user-${n}@bench.example.com`;

export function userBody(name: string, n: number): string {
  return JSON.stringify({
    schemas: [URN.user], userName: name, name: { givenName: "Bench", familyName: `User ${n}` },
    emails: [{ value: name, type: "work", primary: true }], active: true,
  });
}

export function addMembersBody(ids: readonly string[]): string {
  return JSON.stringify({ schemas: [URN.patchOp], Operations: [{ op: "add", path: "members", value: ids.map((value) => ({ value })) }] });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT * 2 });

export interface HttpAnswer { status: number; body: string }

/** One request; rejects on a network error or when the status is not the expected one. */
export function request(method: string, url: string, headers: Record<string, string>, body?: string, expect?: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, "Content-Length": String(Buffer.byteLength(body)) } : headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const answer = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") };
        if (expect !== undefined && answer.status !== expect) {
          reject(new Error(`${method} ${url} answered ${answer.status} (expected ${expect}): ${answer.body.slice(0, 500)}`));
        } else resolve(answer);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Runs work(0…count-1) with at most `limit` in flight; the first failure stops it. */
async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

export interface Preloaded {
  userIds: string[];
  smallGroupId: string;
  largeGroupId: string;
  seconds: number;
  counts: { users: number; smallGroupMembers: number; largeGroupMembers: number; patchPoolUsers: number };
}

export async function preload(scimBase: string, scimToken: string, log: (line: string) => void): Promise<Preloaded> {
  const headers = { Authorization: `Bearer ${scimToken}`, "Content-Type": SCIM_JSON, Accept: SCIM_JSON };
  const started = performance.now();
  const userIds = new Array<string>(USER_COUNT);
  let done = 0;
  await inParallel(USER_COUNT, IN_FLIGHT, async (n) => {
    const answer = await request("POST", `${scimBase}/Users`, headers, userBody(userName(n), n), 201);
    userIds[n] = (JSON.parse(answer.body) as { id: string }).id;
    if (++done % 10_000 === 0) log(`  ${done} users (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  });

  const createGroup = async (displayName: string) =>
    (JSON.parse((await request("POST", `${scimBase}/Groups`, headers, JSON.stringify({ schemas: [URN.group], displayName }), 201)).body) as { id: string }).id;
  const smallGroupId = await createGroup("small");
  const largeGroupId = await createGroup("large");

  // batches of one group serialise on its row lock anyway; the two groups fill side by side
  const fill = async (groupId: string, size: number) => {
    for (let from = 0; from < size; from += MEMBER_BATCH) {
      await request("PATCH", `${scimBase}/Groups/${groupId}`, headers, addMembersBody(userIds.slice(from, Math.min(size, from + MEMBER_BATCH))), 204);
    }
  };
  await Promise.all([fill(smallGroupId, SMALL_GROUP_SIZE), fill(largeGroupId, LARGE_GROUP_SIZE)]);

  const seconds = (performance.now() - started) / 1000;
  return {
    userIds, smallGroupId, largeGroupId, seconds,
    counts: { users: USER_COUNT, smallGroupMembers: SMALL_GROUP_SIZE, largeGroupMembers: LARGE_GROUP_SIZE, patchPoolUsers: USER_COUNT - POOL_START },
  };
}

export function closeAgent(): void {
  agent.destroy();
}
