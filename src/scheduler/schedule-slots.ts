// A schedule fires on every replica's clock at the same instant; the slot (that instant, to the
// second) is claimed by one INSERT, and only the replica whose insert wins queues the slot's jobs,
// in the same transaction — so a slot's jobs are queued once, and a replica that dies while queuing
// leaves the slot unclaimed for the others rather than half-queued.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";

/** The slot a firing belongs to: its scheduled instant, to the second (replicas' timers differ by ms). */
export function slotOf(firedAt: Date): Date {
  return new Date(Math.floor(firedAt.getTime() / 1000) * 1000);
}

/**
 * Claims `schedule`'s `slot` for `claimedBy` and, if this call won it, runs `queue` (which queues the
 * slot's jobs) before committing. Returns how many jobs were queued, or null when another replica
 * had the slot.
 */
export async function claimSlot(db: Knex, schedule: string, slot: Date, claimedBy: string, queue: (trx: Knex.Transaction) => Promise<number>): Promise<number | null> {
  return db.transaction(async (trx) => {
    const { rowCount } = await runSql(trx, `insert into schedule_slots (schedule, slot, claimed_by) values (?, ?, ?) on conflict do nothing`, [schedule, slot.toISOString(), claimedBy]);
    if (rowCount === 0) return null;
    const jobs = await queue(trx);
    await runSql(trx, `update schedule_slots set jobs = ? where schedule = ? and slot = ?`, [jobs, schedule, slot.toISOString()]);
    return jobs;
  });
}

/** Slots older than a week say nothing any more; nor do the keys of runs done once per slot (a day is ample: no job waits that long). */
export async function forgetOldSlots(db: Knex): Promise<void> {
  await runSql(db, `delete from schedule_slots where slot < now() - interval '7 days'`);
  await runSql(db, `delete from reconcile_run_keys where created_at < now() - interval '1 day'`);
}
