// Each replica's count of the current slot's full reconciles, shared through replica_shares every
// SYNC_MS, and the turn-taking of fair-share.ts read from them before each fetch of a scheduled worker.
// The counts live in the database, so a replica restarted mid-slot goes on from what it had run.
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";
import { yieldsTurn } from "./fair-share.ts";

/** The flag full-reconcile jobs carry, which a replica ahead of its share skips for a fetch. */
export const FULL_RECONCILE_FLAG = "full_reconcile";
export const SYNC_MS = 2_000;
/** A replica whose row is older than this has stopped (or has no scheduler): it is not in the fleet. */
const LIVE_MS = 10_000;

export class ReplicaShares {
  private slot: string | null = null;
  /** This replica's runs in the slot not yet written. */
  private unwritten = 0;
  private mine = 0;
  private others: number[] = [];
  private yieldsInARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  constructor(private readonly options: { readonly db: Knex; readonly log: Logger; readonly replica: string }) {}

  /** This replica starts one of `slot`'s full reconciles. */
  ran(slot: string): void {
    if (slot !== this.slot) {
      this.slot = slot;
      this.mine = 0;
      this.unwritten = 0;
      this.others = [];
    }
    this.mine++;
    this.unwritten++;
  }

  /** The flags this replica's scheduled workers skip at this fetch (graphile-worker's forbiddenFlags). */
  forbidden(): string[] | null {
    if (yieldsTurn(this.mine, [this.mine, ...this.others], this.yieldsInARow)) {
      this.yieldsInARow++;
      this.options.log.debug({ replica: this.options.replica, mine: this.mine, others: this.others }, "ahead of the fleet's share of full reconciles: this fetch leaves them to the others");
      return [FULL_RECONCILE_FLAG];
    }
    this.yieldsInARow = 0;
    return null;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.syncing ??= this.sync().catch((error) => this.options.log.warn({ err: error }, "sharing this replica's count of full reconciles failed")).finally(() => (this.syncing = undefined));
    }, SYNC_MS);
    this.timer.unref();
  }

  /** Writes this replica's count and reads the fleet's (the timer does it every SYNC_MS). */
  async sync(): Promise<void> {
    const slot = this.slot;
    if (slot === null) return;
    const written = this.unwritten;
    this.unwritten = 0;
    const { rows: [row] } = await runSql<{ full_runs: number }>(this.options.db,
      `insert into replica_shares (replica, slot, full_runs) values (?, ?, ?)
       on conflict (replica) do update set
         full_runs = case when replica_shares.slot = excluded.slot then replica_shares.full_runs + excluded.full_runs else excluded.full_runs end,
         slot = excluded.slot, seen_at = now()
       returning full_runs`, [this.options.replica, slot, written]).catch((error: unknown) => {
      if (slot === this.slot) this.unwritten += written; // written at the next sync
      throw error;
    });
    const { rows } = await runSql<{ full_runs: number }>(this.options.db,
      `select full_runs from replica_shares where slot = ? and replica <> ? and seen_at > now() - make_interval(secs => ?)`,
      [slot, this.options.replica, LIVE_MS / 1000]);
    if (slot !== this.slot) return;
    this.mine = row!.full_runs + this.unwritten;
    this.others = rows.map((r) => r.full_runs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
  }
}
