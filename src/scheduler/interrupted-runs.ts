// At start: runs a killed process left behind. A reconcile inserts its run row in the transaction that
// applies it, so a killed reconcile leaves no row at all (and its requests stay pending for the worker).
// A pull inserts its 'running' row before it reads the directory and holds the connection's lease:
// killed mid-pull, both stay. Such a run is marked failed ("interrupted") and its lease freed, so the
// connection is pulled again on its next schedule instead of waiting for the lease to expire.
//
// Several replicas on PostgreSQL: a run is only marked when no live process can still own it, that is
// when its connection's lease is free or expired, or was held by a process of this host that is gone.
// A lease held by a process of another host is left to expire (its liveness cannot be checked here).
import { hostname } from "node:os";
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { isAlive } from "../db/data-dir-lock.ts";

export const INTERRUPTED_MESSAGE = "interrupted: the process running it stopped (killed or lost its database) before the run finished; nothing of it was committed, the next scheduled run retries it";

export interface InterruptedRuns {
  /** Runs marked failed. */
  readonly marked: number;
  /** Leases of dead owners released. */
  readonly leasesReleased: number;
  /** Connections whose pull was interrupted (to pull again soon). */
  readonly connectionIds: readonly string[];
}

export interface MarkOptions {
  /**
   * Only this process uses the database (the embedded PGlite, locked to one process): every 'running'
   * run and every lease is a dead one's. Default: false (PostgreSQL, other replicas may be running).
   */
  readonly singleProcess?: boolean;
}

/** Whether a lease owner (`host:pid:uuid`, see connection-lease.ts) is certainly dead. */
function ownerIsDead(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // this process has taken no lease yet when it is starting: an owner with our pid is a previous life
  if (pid === process.pid) return true;
  return !isAlive(pid);
}

export async function markInterruptedRuns(db: Knex, options: MarkOptions = {}): Promise<InterruptedRuns> {
  return db.transaction(async (trx) => {
    const { rows: leases } = await runSql<{ connection_id: string; lease_owner: string }>(trx,
      `select connection_id, lease_owner from connection_sync_state where lease_owner is not null and lease_until >= now() for update`);
    const dead = leases.filter((l) => options.singleProcess || ownerIsDead(l.lease_owner));
    for (const lease of dead) {
      await runSql(trx, `update connection_sync_state set lease_owner = null, lease_until = null where connection_id = ? and lease_owner = ?`,
        [lease.connection_id, lease.lease_owner]);
    }
    // a 'running' run is orphaned when no live holder of its connection's lease remains
    const { rows: marked } = await runSql<{ connection_id: string | null }>(trx,
      `update sync_runs r set status = 'failed', finished_at = now(), error = ?
       where r.status = 'running'
         and (? or r.connection_id is null or not exists (
           select 1 from connection_sync_state s
           where s.connection_id = r.connection_id and s.lease_owner is not null and s.lease_until >= now()))
       returning r.connection_id`, [INTERRUPTED_MESSAGE, options.singleProcess === true]);
    const connectionIds = [...new Set(marked.map((m) => m.connection_id).filter((id): id is string => id !== null))];
    return { marked: marked.length, leasesReleased: dead.length, connectionIds };
  });
}
