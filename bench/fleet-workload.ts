// The fleet benchmark's SCIM traffic while the slots run, spread round-robin over the replicas (a
// request that finds its replica down — the killed one — goes to the next, as an IdP's retry would):
//   - profile PATCHes (displayName) of one member per account, cycling through the accounts
//   - group member adds and removes (Ops, which grants read on ops.example.com): after each 2xx the
//     grant table is polled every 10 ms until the change shows — the group change's applied latency
//   - departures (active=false), half in Okta's form and half in Entra's, at most five per account and
//     evenly spread over the window: each timed, and right after its answer the database is asked
//     whether that person's membership, grants, keys, sessions and invitations are already gone
// It records what it sent, for the lost-change check after quiescing (fleet-verify.ts).
import type pg from "pg";
import { request, SCIM_JSON, URN } from "./preload.ts";
import type { SmallAccount, SeededUser } from "./fleet-seed.ts";

export interface Departure {
  readonly account: SmallAccount;
  readonly user: SeededUser;
  readonly dialect: "okta" | "entra";
  ms: number;
  status: number;
  /** The replica that answered, and when the request was sent (epoch ms). */
  replica?: string;
  sentAt?: number;
  /** Everything revoked when the 2xx arrived. */
  revokedAtResponse: boolean;
  /** What was still there then (for the report). */
  leftAtResponse: Record<string, number>;
}

export interface GroupChange {
  readonly account: SmallAccount;
  readonly add: boolean;
  /** From the 2xx to the grant's change showing; undefined when it did not show within 30 s. */
  appliedMs: number | undefined;
}

export interface WorkloadRecord {
  readonly departures: Departure[];
  readonly groupChanges: GroupChange[];
  /** The last displayName sent per IdP user (answered 2xx). */
  readonly profiles: Map<string, { account: SmallAccount; displayName: string }>;
  /** The Ops membership each toggled user should end with, per account id. */
  readonly opsWanted: Map<string, boolean>;
  requests: number;
  /** Requests answered neither 2xx nor retried to success. */
  failures: number;
  /** Network errors that sent a request on to the next replica. */
  retried: number;
  readonly requestsPerReplica: Map<string, number>;
  firstFailure?: string;
}

export interface WorkloadPlan {
  readonly replicaUrls: () => readonly string[];
  readonly accounts: readonly SmallAccount[];
  readonly departures: number;
  readonly profilesPerSecond: number;
  readonly endsAt: number;
}

const MAX_PER_ACCOUNT = 5;
/** Group removals count towards the removal brake (one grant each): at most three per account in the window. */
const MAX_TOGGLES_PER_ACCOUNT = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The people who depart: the last members of each account, round-robin, never user 0–2 (the others' subjects). */
export function chooseDepartures(accounts: readonly SmallAccount[], count: number): Array<{ account: SmallAccount; user: SeededUser }> {
  const chosen: Array<{ account: SmallAccount; user: SeededUser }> = [];
  for (let i = 0; chosen.length < count; i++) {
    const round = Math.floor(i / accounts.length);
    if (round >= MAX_PER_ACCOUNT) throw new Error(`${count} departures need more than ${MAX_PER_ACCOUNT} per account over ${accounts.length} accounts`);
    const account = accounts[i % accounts.length]!;
    if (round >= account.users.length - 3) continue;
    chosen.push({ account, user: account.users[account.users.length - 1 - round]! });
  }
  return chosen;
}

function departureBody(dialect: "okta" | "entra"): string {
  const op = dialect === "okta" ? { op: "replace", value: { active: false } } : { op: "Replace", path: "active", value: "False" };
  return JSON.stringify({ schemas: [URN.patchOp], Operations: [op] });
}

/** What of a person's access is still there: zero everywhere (and a membership not active) is a completed departure. */
export async function accessLeft(db: pg.Pool, accountId: string, userId: string): Promise<Record<string, number>> {
  const { rows: [row] } = await db.query<Record<string, number>>(`select
      (select count(*)::int from memberships where account_id = $1 and user_id = $2 and status = 'active') as "activeMembership",
      (select count(*)::int from domain_grants g join memberships m on m.id = g.membership_id where m.account_id = $1 and m.user_id = $2) as grants,
      (select count(*)::int from api_keys where account_id = $1 and created_by_user_id = $2 and revoked_at is null) as "apiKeys",
      (select count(*)::int from sessions where account_id = $1 and user_id = $2 and revoked_at is null and expires_at > now()) as sessions,
      (select count(*)::int from invitations where account_id = $1 and invited_by_user_id = $2 and status = 'pending') as invitations`, [accountId, userId]);
  return row!;
}

export async function hasOpsGrant(db: pg.Pool, account: SmallAccount): Promise<boolean> {
  const { rows } = await db.query(`select 1 from domain_grants g join memberships m on m.id = g.membership_id
    where m.account_id = $1 and m.user_id = $2 and g.domain_id = $3`, [account.id, account.users[1]!.userId, account.opsDomainId]);
  return rows.length > 0;
}

export class FleetWorkload {
  readonly record: WorkloadRecord = {
    departures: [], groupChanges: [], profiles: new Map(), opsWanted: new Map(), requests: 0, failures: 0, retried: 0, requestsPerReplica: new Map(),
  };
  private turn = 0;

  constructor(private readonly db: pg.Pool, private readonly plan: WorkloadPlan) {}

  /** One SCIM request on the next replica in turn; on a network error, on the ones after it. */
  private async scim(token: string, method: string, path: string, body: string): Promise<{ status: number; ms: number; replica?: string; sentAt?: number }> {
    const urls = this.plan.replicaUrls();
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": SCIM_JSON, Accept: SCIM_JSON };
    const first = this.turn++;
    let lastError: unknown;
    for (let attempt = 0; attempt < urls.length * 2; attempt++) {
      const url = urls[(first + attempt) % urls.length]!;
      const sent = performance.now();
      try {
        this.record.requests++;
        const answer = await request(method, `${url}/scim/v2${path}`, headers, body);
        this.record.requestsPerReplica.set(url, (this.record.requestsPerReplica.get(url) ?? 0) + 1);
        const ms = performance.now() - sent;
        if (answer.status >= 300) {
          this.record.failures++;
          this.record.firstFailure ??= `${method} ${path} answered ${answer.status}: ${answer.body.slice(0, 300)}`;
        }
        return { status: answer.status, ms, replica: url, sentAt: Date.now() - ms };
      } catch (error) {
        lastError = error;
        this.record.retried++;
        await sleep(100 * (attempt + 1));
      }
    }
    this.record.failures++;
    this.record.firstFailure ??= `${method} ${path}: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
    return { status: 0, ms: NaN };
  }

  async run(): Promise<WorkloadRecord> {
    await Promise.all([this.profileLoop(0, 2), this.profileLoop(1, 2), this.groupLoop(), this.departureLoop()]);
    return this.record;
  }

  private async profileLoop(lane: number, lanes: number): Promise<void> {
    const gapMs = (1000 * lanes) / this.plan.profilesPerSecond;
    for (let n = lane; Date.now() < this.plan.endsAt; n += lanes) {
      const account = this.plan.accounts[n % this.plan.accounts.length]!;
      const user = account.users[2]!;
      const displayName = `Fleet User 2 v${n}`;
      const started = Date.now();
      const { status } = await this.scim(account.token, "PATCH", `/Users/${user.idpId}`,
        JSON.stringify({ schemas: [URN.patchOp], Operations: [{ op: "replace", path: "displayName", value: displayName }] }));
      if (status >= 200 && status < 300) this.record.profiles.set(user.idpId, { account, displayName });
      await sleep(Math.max(0, gapMs - (Date.now() - started)));
    }
  }

  private async groupLoop(): Promise<void> {
    const toggles = new Map<string, number>();
    for (let n = 0; Date.now() < this.plan.endsAt; n++) {
      const account = this.plan.accounts[n % this.plan.accounts.length]!;
      const done = toggles.get(account.id) ?? 0;
      if (done >= MAX_TOGGLES_PER_ACCOUNT) {
        if (n >= this.plan.accounts.length * MAX_TOGGLES_PER_ACCOUNT) return;
        continue;
      }
      const add = !(this.record.opsWanted.get(account.id) ?? false);
      const member = account.users[1]!.idpId;
      const operation = add ? { op: "add", path: "members", value: [{ value: member }] } : { op: "remove", path: `members[value eq "${member}"]` };
      const { status } = await this.scim(account.token, "PATCH", `/Groups/${account.opsGroupId}`, JSON.stringify({ schemas: [URN.patchOp], Operations: [operation] }));
      if (status < 200 || status >= 300) continue;
      toggles.set(account.id, done + 1);
      this.record.opsWanted.set(account.id, add);
      const answered = performance.now();
      let appliedMs: number | undefined;
      while (performance.now() - answered < 30_000) {
        if ((await hasOpsGrant(this.db, account)) === add) {
          appliedMs = performance.now() - answered;
          break;
        }
        await sleep(10);
      }
      this.record.groupChanges.push({ account, add, appliedMs });
      await sleep(100);
    }
  }

  private async departureLoop(): Promise<void> {
    const chosen = chooseDepartures(this.plan.accounts, this.plan.departures);
    const startedAt = Date.now();
    // spread over the window, leaving its last tenth for the last ones to settle
    const gapMs = ((this.plan.endsAt - startedAt) * 0.9) / Math.max(1, chosen.length);
    for (const [i, { account, user }] of chosen.entries()) {
      await sleep(Math.max(0, startedAt + i * gapMs - Date.now()));
      const dialect = i % 2 === 0 ? "okta" : "entra";
      const { status, ms, replica, sentAt } = await this.scim(account.token, "PATCH", `/Users/${user.idpId}`, departureBody(dialect));
      const left = status >= 200 && status < 300 ? await accessLeft(this.db, account.id, user.userId) : {};
      this.record.departures.push({
        account, user, dialect, ms, status, replica, sentAt, leftAtResponse: Object.fromEntries(Object.entries(left).filter(([, n]) => n > 0)),
        revokedAtResponse: status >= 200 && status < 300 && Object.values(left).every((n) => n === 0),
      });
    }
  }
}
