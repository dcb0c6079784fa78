// After the traffic: waiting until the fleet has answered every reconcile request, then comparing what
// was sent (and answered 2xx) with what the database holds. A change that did not take effect is lost:
// a profile whose last displayName is not in the snapshot, a departed person still active in the
// snapshot or (unless the removal brake holds them, counted apart) still holding access, an Ops
// membership or its grant other than the last add/remove asked for, a request never processed.
import type pg from "pg";
import { accessLeft, hasOpsGrant, type WorkloadRecord } from "./fleet-workload.ts";

export interface LostChanges {
  readonly total: number;
  readonly profiles: number;
  readonly departures: number;
  readonly groupMemberships: number;
  readonly groupGrants: number;
  readonly unprocessedRequests: number;
  /** Departures the removal brake holds (not lost: waiting for an operator). */
  readonly heldDeactivations: number;
  /** Group changes whose grant the brake holds. */
  readonly heldGroupChanges: number;
  readonly quiescedAfterSeconds: number;
  readonly examples: string[];
}

const pendingRequests = async (db: pg.Pool) => (await db.query<{ n: number }>(`select count(*)::int as n from reconcile_requests where processed_at is null`)).rows[0]!.n;

/** Waits until no reconcile request is pending (twice in a row, a second apart), at most `timeoutMs`. */
async function quiesce(db: pg.Pool, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let quiet = 0;
  while (Date.now() - started < timeoutMs && quiet < 2) {
    quiet = (await pendingRequests(db)) === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return (Date.now() - started) / 1000;
}

async function heldUsers(db: pg.Pool): Promise<Set<string>> {
  const { rows } = await db.query<{ user_id: string }>(`select distinct user_id from held_removals where decision is null`);
  return new Set(rows.map((r) => r.user_id));
}

export async function countLostChanges(db: pg.Pool, record: WorkloadRecord, timeoutMs = 60_000): Promise<LostChanges> {
  const quiescedAfterSeconds = await quiesce(db, timeoutMs);
  const held = await heldUsers(db);
  const examples: string[] = [];
  const note = (line: string) => void (examples.length < 10 && examples.push(line));

  let profiles = 0;
  for (const [idpId, { displayName }] of record.profiles) {
    const { rows: [row] } = await db.query<{ display_name: string | null }>(`select display_name from idp_users where id = $1`, [idpId]);
    if (row?.display_name !== displayName) {
      profiles++;
      note(`profile ${idpId}: sent "${displayName}", snapshot has "${row?.display_name}"`);
    }
  }

  let departures = 0;
  let heldDeactivations = 0;
  for (const d of record.departures.filter((x) => x.status >= 200 && x.status < 300)) {
    const { rows: [row] } = await db.query<{ active: boolean }>(`select active from idp_users where id = $1`, [d.user.idpId]);
    const left = await accessLeft(db, d.account.id, d.user.userId);
    const stillThere = Object.entries(left).filter(([, n]) => n > 0);
    if (row?.active !== false) {
      departures++;
      note(`departure ${d.user.idpId} (${d.dialect}): the snapshot still has active=${row?.active}`);
    } else if (held.has(d.user.userId)) heldDeactivations++;
    else if (stillThere.length > 0) {
      departures++;
      note(`departure ${d.user.idpId} (${d.dialect}) in ${d.account.slug}: still has ${stillThere.map(([k, n]) => `${n} ${k}`).join(", ")}`);
    }
  }

  let groupMemberships = 0;
  let groupGrants = 0;
  let heldGroupChanges = 0;
  const accounts = new Map(record.groupChanges.map((c) => [c.account.id, c.account]));
  for (const [accountId, wanted] of record.opsWanted) {
    const account = accounts.get(accountId)!;
    const { rows } = await db.query(`select 1 from idp_group_members where group_id = $1 and member_id = $2`, [account.opsGroupId, account.users[1]!.idpId]);
    if ((rows.length > 0) !== wanted) {
      groupMemberships++;
      note(`group Ops of ${account.slug}: member ${account.users[1]!.idpId} should be ${wanted ? "in" : "out"}`);
    }
    if ((await hasOpsGrant(db, account)) !== wanted) {
      if (!wanted && held.has(account.users[1]!.userId)) heldGroupChanges++;
      else {
        groupGrants++;
        note(`grant of ops.example.com in ${account.slug}: should be ${wanted ? "there" : "gone"}`);
      }
    }
  }

  const unprocessedRequests = await pendingRequests(db);
  if (unprocessedRequests > 0) note(`${unprocessedRequests} reconcile requests still unprocessed after ${quiescedAfterSeconds.toFixed(0)} s`);
  return {
    total: profiles + departures + groupMemberships + groupGrants + unprocessedRequests,
    profiles, departures, groupMemberships, groupGrants, unprocessedRequests, heldDeactivations, heldGroupChanges, quiescedAfterSeconds, examples,
  };
}
