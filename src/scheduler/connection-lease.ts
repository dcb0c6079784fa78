// One pull per connection at a time across every replica: a lease row in the database, taken with a
// single conditional UPDATE (works the same on PostgreSQL and the embedded database), never a
// process-local flag. A crashed holder's lease simply expires.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

/** Longer than any sane pull; a holder that died is replaced after this. */
const LEASE_SECONDS = 30 * 60;

export interface Lease {
  readonly connectionId: string;
  readonly owner: string;
  release(): Promise<void>;
}

/** The lease, or null when another run holds it. */
export async function takeLease(db: Knex, connectionId: string): Promise<Lease | null> {
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  await runSql(db, `insert into connection_sync_state (connection_id) values (?) on conflict (connection_id) do nothing`, [connectionId]);
  const { rowCount } = await runSql(db,
    `update connection_sync_state set lease_owner = ?, lease_until = now() + make_interval(secs => ?)
     where connection_id = ? and (lease_until is null or lease_until < now())`, [owner, LEASE_SECONDS, connectionId]);
  if (rowCount === 0) return null;
  return {
    connectionId, owner,
    async release() {
      await runSql(db, `update connection_sync_state set lease_owner = null, lease_until = null where connection_id = ? and lease_owner = ?`, [connectionId, owner]);
    },
  };
}
