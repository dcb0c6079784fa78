// The held change-set's state in the database, and the writes a transition of held-change-set.ts
// asks for: decisions on held removals, closed and superseded runs, rejections and their alerts. Always
// inside the caller's transaction, after the account row lock (so the state cannot move underneath).
import { runSql } from "../db/run-sql.ts";
import type { Executor } from "../snapshot/connection-scope.ts";
import { writeAudit } from "../audit/audit-log.ts";
import type { BrakeState, HeldVersion, PlannedRemoval, Rejection, Settlement } from "./held-change-set.ts";
import type { PlanAction } from "./plan.ts";

interface HeldRow { run_id: string; key: string; user_id: string; counted: boolean; fingerprint: string; action: PlanAction; decision: string | null }

export async function loadBrakeState(db: Executor, accountId: string): Promise<BrakeState> {
  const { rows } = await runSql<HeldRow>(db,
    `select h.run_id, h.key, h.user_id, h.counted, h.fingerprint, h.action, h.decision
     from held_removals h join sync_runs r on r.id = h.run_id
     where h.account_id = ? and r.status in ('held', 'superseded') order by r.held_at, r.started_at, h.ord`, [accountId]);
  const versions = new Map<string, { runId: string; open: PlannedRemoval[]; approved: number; rejected: number }>();
  for (const row of rows) {
    let version = versions.get(row.run_id);
    if (!version) versions.set(row.run_id, (version = { runId: row.run_id, open: [], approved: 0, rejected: 0 }));
    if (row.decision === null) version.open.push({ key: row.key, userId: row.user_id, counted: row.counted, fingerprint: row.fingerprint, action: row.action });
    if (row.decision === "approved") version.approved++;
    if (row.decision === "rejected") version.rejected++;
  }
  const { rows: rejections } = await runSql<{ user_id: string; fingerprint: string; run_id: string; keys: string[] }>(db,
    `select user_id, fingerprint, run_id, keys from removal_rejections where account_id = ?`, [accountId]);
  return {
    versions: [...versions.values()].filter((v) => v.open.length > 0) satisfies HeldVersion[],
    rejections: new Map(rejections.map((r) => [r.user_id, { userId: r.user_id, fingerprint: r.fingerprint, runId: r.run_id, keys: r.keys }])),
  };
}

/** Records decisions and closes the runs with nothing left to decide (their alerts resolved). */
export async function writeSettlement(db: Executor, accountId: string, settlement: Settlement, actor: string): Promise<void> {
  const decisions = settlement.decisions.map((d) => ({ run_id: d.runId, key: d.key, decision: d.decision }));
  if (decisions.length) {
    await runSql(db, `update held_removals h set decision = d.decision, decided_at = now(), decided_by = ?
      from jsonb_to_recordset(?::jsonb) as d(run_id uuid, key text, decision text) where h.run_id = d.run_id and h.key = d.key and h.decision is null`,
    [actor, JSON.stringify(decisions)]);
  }
  for (const { runId, status } of settlement.closed) {
    await runSql(db, `update sync_runs set status = ?, decided_at = now(), decided_by = ? where id = ?`, [status, actor, runId]);
    await runSql(db, `update alerts set resolved_at = now() where run_id = ? and kind = 'run_held' and resolved_at is null`, [runId]);
    await writeAudit(db, { accountId, actor, action: `run.${status}`, targetType: "run", targetId: runId, runId });
  }
}

/** Records a new version of the held change-set on `runId`, superseding the current one. */
export async function writeNewVersion(db: Executor, accountId: string, runId: string, removals: readonly PlannedRemoval[], superseded: string | null): Promise<void> {
  await runSql(db, `insert into held_removals (run_id, account_id, key, user_id, counted, fingerprint, action, ord)
    select ?, ?, r.key, r.user_id, r.counted, r.fingerprint, r.action, r.ord from jsonb_to_recordset(?::jsonb) as r(key text, user_id uuid, counted boolean, fingerprint text, action jsonb, ord integer)`,
  [runId, accountId, JSON.stringify(removals.map((r, ord) => ({ key: r.key, user_id: r.userId, counted: r.counted, fingerprint: r.fingerprint, action: r.action, ord })))]);
  if (superseded) {
    await runSql(db, `update sync_runs set status = 'superseded', superseded_by = ? where id = ? and status = 'held'`, [runId, superseded]);
    // one open alert per change-set: the newest version's
    await runSql(db, `update alerts set resolved_at = now() where run_id = ? and kind = 'run_held' and resolved_at is null`, [superseded]);
  }
}

/** A rejection stored, audited, and visible as an open alert while it lasts. */
export async function writeRejections(db: Executor, accountId: string, rejections: readonly Rejection[], actor: string): Promise<void> {
  for (const r of rejections) {
    await runSql(db, `insert into removal_rejections (account_id, user_id, fingerprint, run_id, keys, rejected_by) values (?, ?, ?, ?, ?::text[], ?)
      on conflict (account_id, user_id) do update set fingerprint = excluded.fingerprint, run_id = excluded.run_id, keys = excluded.keys, rejected_at = now(), rejected_by = excluded.rejected_by`,
    [accountId, r.userId, r.fingerprint, r.runId, r.keys, actor]);
    const { rows: [user] } = await runSql<{ email: string }>(db, `select email from users where id = ?`, [r.userId]);
    await runSql(db, `update alerts set resolved_at = now() where account_id = ? and user_id = ? and kind = 'access_kept' and resolved_at is null`, [accountId, r.userId]);
    await runSql(db, `insert into alerts (account_id, kind, user_id, detail, data, run_id) values (?, 'access_kept', ?, ?, ?::jsonb, ?)`,
      [accountId, r.userId, `${user?.email ?? r.userId} keeps access by an operator's decision (run ${r.runId} rejected): ${r.keys.length} removal(s) kept until their IdP facts change or an operator lifts it (idsync runs lift)`,
        JSON.stringify({ keys: r.keys }), r.runId]);
    await writeAudit(db, { accountId, actor, action: "removal.rejected", targetType: "user", targetId: r.userId, after: { keys: r.keys }, runId: r.runId });
  }
}

/** Rejections ended (facts changed, or an operator lifted them): removed, their alerts resolved, audited. */
export async function removeRejections(db: Executor, accountId: string, lifted: readonly Rejection[], actor: string, why: string, runId: string | null): Promise<void> {
  for (const r of lifted) {
    await runSql(db, `delete from removal_rejections where account_id = ? and user_id = ?`, [accountId, r.userId]);
    await runSql(db, `update alerts set resolved_at = now() where account_id = ? and user_id = ? and kind = 'access_kept' and resolved_at is null`, [accountId, r.userId]);
    await writeAudit(db, { accountId, actor, action: "rejection.lifted", targetType: "user", targetId: r.userId, before: { keys: r.keys, rejectedIn: r.runId }, after: { why }, runId });
  }
}
