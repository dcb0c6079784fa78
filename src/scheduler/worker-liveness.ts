// Which graphile-worker workers are alive, across replicas. Each replica writes a row per worker
// every HEARTBEAT_MS; any replica, every HEARTBEAT_MS, frees the jobs of workers silent for
// SILENT_MS (and of jobs locked that long by a worker that never wrote a row: it died at once).
// So a job of a replica killed mid-run (its transaction rolled back with its connection) is taken
// by another replica within SILENT_MS + HEARTBEAT_MS + the queue's poll interval: under 40 s.
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import { runSql } from "../db/run-sql.ts";

export const HEARTBEAT_MS = 5_000;
export const SILENT_MS = 30_000;

export interface WorkerLivenessOptions {
  readonly db: Knex;
  readonly log: Logger;
  readonly replica: string;
  /** graphile-worker's schema, whose jobs table says which worker holds what. */
  readonly schema: string;
  readonly unlock: (workerIds: string[]) => Promise<void>;
}

export class WorkerLiveness {
  private readonly workers = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(private readonly options: WorkerLivenessOptions) {}

  track(workerId: string): void {
    this.workers.add(workerId);
  }

  untrack(workerId: string): void {
    this.workers.delete(workerId);
    void runSql(this.options.db, `delete from queue_workers where worker_id = ?`, [workerId]).catch(() => undefined);
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat().catch((error) => this.options.log.warn({ err: error }, "worker heartbeat failed")).finally(() => (this.beating = undefined));
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Says this replica's workers are alive, then frees the jobs of workers that are not. */
  private async beat(): Promise<void> {
    const { db, schema } = this.options;
    if (this.workers.size > 0) {
      await runSql(db, `insert into queue_workers (worker_id, replica) select unnest(?::text[]), ? on conflict (worker_id) do update set seen_at = now()`,
        [[...this.workers], this.options.replica]);
    }
    const { rows } = await runSql<{ id: string }>(db,
      `with silent as (delete from queue_workers where seen_at < now() - make_interval(secs => ?) returning worker_id)
       select worker_id as id from silent
       union
       select distinct locked_by from "${schema}"._private_jobs j
       where locked_by is not null and locked_at < now() - make_interval(secs => ?) and not exists (select 1 from queue_workers w where w.worker_id = j.locked_by)`,
      [SILENT_MS / 1000, SILENT_MS / 1000]);
    const dead = rows.map((r) => r.id).filter((id) => !this.workers.has(id));
    if (dead.length === 0) return;
    await this.options.unlock(dead);
    this.options.log.warn({ workers: dead }, "freed the jobs of queue workers that stopped (a replica was killed); another replica takes them");
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (this.workers.size > 0) await runSql(this.options.db, `delete from queue_workers where worker_id = any(?::text[])`, [[...this.workers]]).catch(() => undefined);
  }
}
