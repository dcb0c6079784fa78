// One pull of one Google or Graph connection: lease → read the directory (no transaction open while
// the network is slow) → write the connection's snapshot, check it for a suspicious drop and ask for
// a reconcile, all in one transaction → reconcile the account through the same planner as SCIM.
// A Google full pull streams: each page is written to a staging table as it arrives (memory bounded by a
// page, not the directory), and the transaction applies the staging set-based; its duration is reported.
// Any failure before the commit leaves the snapshot as it was: nothing is removed on bad data, and the
// staging rows are dropped (a killed run's by the connection's next pull).
// A dry run does the same writes and plans inside a transaction it then rolls back.
import type { Knex } from "knex";
import { runSql } from "../db/run-sql.ts";
import { analyzeAfterBulkWrite } from "../db/table-statistics.ts";
import { checkConnectionConfig, type ConnectionConfig } from "../sources/connection-config.ts";
import { streamFullPull } from "../sources/google/full-pull.ts";
import { departurePull } from "../sources/google/departure-pull.ts";
import type { GooglePullDeps } from "../sources/google/directory-session.ts";
import { deltaPull, streamFullDeltaRound, type GraphPullDeps } from "../sources/graph/delta-pull.ts";
import { DeltaResyncRequired, IncompletePullError, SourceConfigError, SourceUnavailableError, SuspiciousDropError } from "../sources/pull-errors.ts";
import type { DeltaPull, FullPullStream } from "../snapshot/pulled-directory.ts";
import type { ConnectionScope } from "../snapshot/connection-scope.ts";
import { applySnapshotDelta, countConnectionSnapshot, deactivateUsers, tombstoneUsers, type SnapshotWrite } from "../snapshot/pulled-snapshot.ts";
import { recordSnapshotChange } from "../snapshot/snapshot-changes.ts";
import { suspiciousDrop } from "../snapshot/drop-guard.ts";
import { applyStagedPull, countStagedPull, dropStaleStagings, PullStaging } from "../snapshot/pull-staging.ts";
import { reconcileAccount } from "../reconcile/reconcile-account.ts";
import type { Plan } from "../reconcile/plan.ts";
import { takeLease } from "./connection-lease.ts";
import { raisePullAlert, resolvePullAlerts } from "./pull-alerts.ts";
import { directoryCalls, directoryThrottles, runsFinished } from "../metrics/metrics.ts";

/** Google: `full` or `departures`; Graph: `delta` (a full resync when no usable links) or `full`. */
export type PullMode = "full" | "departures" | "delta";

export interface PullDeps {
  readonly google?: GooglePullDeps;
  readonly graph?: GraphPullDeps;
}

export interface PullOptions {
  readonly mode: PullMode;
  readonly trigger: string;
  readonly dryRun?: boolean;
  /** This run only: believe a larger drop (an operator who checked the directory really shrank). */
  readonly maxDropPercent?: number;
  /** Progress lines for a watching operator (`idsync sync`). */
  readonly progress?: (line: string) => void;
}

export interface PullResult {
  readonly runId: string | null;
  readonly status: "succeeded" | "aborted" | "failed" | "busy" | "dry-run";
  readonly calls: number;
  readonly durationMs: number;
  readonly counts: Record<string, number>;
  readonly error?: string;
  /** The reconcile that followed (status), or the plan of a dry run. */
  readonly reconcile?: { status: string; runId: string | null; applied: number; withheld: number };
  readonly plan?: Plan;
}

/** Delta links older than this are not trusted (Graph keeps delta state for a limited time). */
const MAX_LINK_AGE_DAYS = 6;

class DryRunRollback extends Error {}

interface WrittenPull {
  readonly write: SnapshotWrite;
  readonly calls: number;
  readonly pulled: Record<string, number>;
  readonly links?: { users: string; groups: string };
}

type ReadDirectory =
  /** A full read (Google, or a Graph full round, whose next links come with it), complete in its staging. */
  | { kind: "staged"; pull: { staging: PullStaging; calls: number; links?: { users: string; groups: string } } }
  | { kind: "departures"; pull: Awaited<ReturnType<typeof departurePull>> }
  | { kind: "delta"; pull: DeltaPull };

/** Writes a full read's pages into a new staging as they arrive (outside any transaction); the staging, complete. */
async function stage(stream: FullPullStream, openStaging: () => Promise<PullStaging>, onCalls: (calls: number) => void): Promise<PullStaging> {
  const staging = await openStaging();
  try {
    for await (const page of stream) await staging.write(page);
    await staging.finish();
  } finally {
    onCalls(stream.calls);
  }
  return staging;
}

/**
 * Reads the directory: the part of a run that talks to Google or Microsoft. A Google full pull and a Graph full
 * round are written into a staging page by page and handed over as that staging, complete; a Graph delta round
 * (the changes since the stored links: small) is folded in memory.
 */
async function readDirectory(config: ConnectionConfig, mode: PullMode, deps: PullDeps, links: { users: string | null; groups: string | null } | null,
  progress: (line: string) => void, connectionId: string, openStaging: () => Promise<PullStaging>, onCalls: (calls: number) => void): Promise<ReadDirectory> {
  if (config.kind === "google") {
    const google = { ...deps.google, onThrottle: (status: number | null) => {
      directoryThrottles.inc({ connection: connectionId, kind: "google" });
      deps.google?.onThrottle?.(status);
    } };
    if (mode === "departures") {
      progress("reading suspended, archived and deleted users");
      return { kind: "departures", pull: await departurePull(config.source, google) };
    }
    progress("reading users, groups and their members (written to staging page by page)");
    const stream = streamFullPull(config.source, google);
    const staging = await stage(stream, openStaging, onCalls);
    return { kind: "staged", pull: { staging, calls: stream.calls } };
  }
  const graph = { ...deps.graph, onThrottle: (signal: Parameters<NonNullable<GraphPullDeps["onThrottle"]>>[0]) => {
    directoryThrottles.inc({ connection: connectionId, kind: "graph" });
    deps.graph?.onThrottle?.(signal);
  } };
  const fullRound = async (): Promise<ReadDirectory> => {
    const stream = streamFullDeltaRound(config.source, graph);
    const staging = await stage(stream, openStaging, onCalls);
    return { kind: "staged", pull: { staging, calls: stream.calls, links: { users: stream.links!.usersDeltaLink, groups: stream.links!.groupsDeltaLink } } };
  };
  if (mode === "full" || !links) {
    progress("reading every user and group (a full delta round, written to staging page by page)");
    return fullRound();
  }
  progress("reading the changes since the last delta round");
  try {
    return { kind: "delta", pull: await deltaPull(config.source, graph, { usersDeltaLink: links.users, groupsDeltaLink: links.groups }) };
  } catch (error) {
    if (!(error instanceof DeltaResyncRequired)) throw error;
    progress(`Graph no longer knows the delta state (${error.message}): a full resync, written to staging page by page`);
    return fullRound();
  }
}

/** Writes what was read into the snapshot (inside `trx`). */
async function writeSnapshot(trx: Knex.Transaction, scope: ConnectionScope, read: Exclude<ReadDirectory, { kind: "staged" }>, runId: string | null): Promise<WrittenPull> {
  if (read.kind === "departures") {
    const { inactiveUsers, deletedUserSourceIds, calls } = read.pull;
    const deactivated = await deactivateUsers(trx, scope, inactiveUsers.map((u) => u.sourceId), runId);
    const tombstoned = await tombstoneUsers(trx, scope, deletedUserSourceIds, runId);
    return {
      write: { affectedUserIds: [...deactivated, ...tombstoned], counts: { usersWritten: deactivated.length, usersTombstoned: tombstoned.length, groupsWritten: 0, groupsTombstoned: 0, membershipsAdded: 0, membershipsRemoved: 0 } },
      calls, pulled: { inactiveUsers: inactiveUsers.length, deletedUsers: deletedUserSourceIds.length },
    };
  }
  const delta = read.pull;
  const links = { users: delta.usersDeltaLink, groups: delta.groupsDeltaLink };
  const pulled = { changedUsers: delta.changedUsers.length, removedUsers: delta.removedUsers.length, changedGroups: delta.changedGroups.length,
    addedMemberships: delta.addedMemberships.length, removedMemberships: delta.removedMemberships.length };
  const write = await applySnapshotDelta(trx, scope, {
    changedUsers: delta.changedUsers,
    deletedUserSourceIds: delta.removedUsers.filter((r) => r.reason === "deleted").map((r) => r.sourceId),
    // a soft delete can be undone for 30 days: a departure (access closed, membership kept), not a deletion
    deactivatedUserSourceIds: delta.removedUsers.filter((r) => r.reason === "changed").map((r) => r.sourceId),
    changedGroups: delta.changedGroups, removedGroupSourceIds: delta.removedGroupSourceIds,
    addedMemberships: delta.addedMemberships, removedMemberships: delta.removedMemberships,
  }, runId);
  return { write, calls: delta.calls, pulled, links };
}

function outcomeOf(error: unknown): { status: "aborted" | "failed"; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  // fail closed: the directory could not be read whole, or what it said is not believable
  if (error instanceof SourceUnavailableError || error instanceof IncompletePullError || error instanceof SuspiciousDropError) return { status: "aborted", message };
  // a SourceConfigError's message names the fix; anything else is a fault of ours
  return { status: "failed", message };
}

export async function runPull(db: Knex, connectionId: string, options: PullOptions, deps: PullDeps = {}): Promise<PullResult> {
  const started = performance.now();
  const progress = options.progress ?? (() => undefined);
  const { rows: [connection] } = await runSql<{ account_id: string; kind: "google" | "graph" | "scim"; config: unknown; status: string }>(db,
    `select account_id, kind, config, status from directory_connections where id = ?`, [connectionId]);
  if (!connection) throw new Error(`no connection ${connectionId}`);
  if (connection.kind === "scim") throw new SourceConfigError(`connection ${connectionId} is a SCIM connection`, null, "SCIM connections are pushed to by the IdP; only google and graph connections are pulled");
  const config = checkConnectionConfig(connection.kind, connection.config);
  const scope: ConnectionScope = { connectionId, accountId: connection.account_id };
  const mode: PullMode = config.kind === "google" ? (options.mode === "departures" ? "departures" : "full") : options.mode === "full" ? "full" : "delta";

  const lease = await takeLease(db, connectionId);
  if (!lease) {
    progress("another run of this connection is in progress; nothing done");
    return { runId: null, status: "busy", calls: 0, durationMs: performance.now() - started, counts: {} };
  }
  const kind = `${config.kind}-${mode}`;
  const runId = options.dryRun ? null : (await runSql<{ id: string }>(db,
    `insert into sync_runs (account_id, connection_id, kind, status, trigger) values (?, ?, ?, 'running', ?) returning id`,
    [scope.accountId, connectionId, kind, options.trigger])).rows[0]!.id;
  let calls = 0;
  let staging: PullStaging | null = null;
  try {
    // holding the lease, every staging of this connection belongs to a run that is no longer running
    const stale = await dropStaleStagings(db, scope);
    if (stale > 0) progress(`dropped the staging rows of ${stale} earlier run(s) that did not finish`);
    const { rows: [state] } = await runSql<{ users_delta_link: string | null; groups_delta_link: string | null; fresh: boolean; last_good_users: number | null; last_good_memberships: number | null }>(db,
      `select users_delta_link, groups_delta_link, coalesce(delta_links_at > now() - make_interval(days => ?), false) as fresh, last_good_users, last_good_memberships
       from connection_sync_state where connection_id = ?`, [MAX_LINK_AGE_DAYS, connectionId]);
    const links = state?.fresh && state.users_delta_link && state.groups_delta_link ? { users: state.users_delta_link, groups: state.groups_delta_link } : null;
    const read = await readDirectory(config, mode, deps, links, progress, connectionId,
      async () => (staging = await PullStaging.open(db, scope, runId)), (n) => { calls = n; });
    calls = read.pull.calls;
    progress(`read with ${calls} API calls; writing the snapshot`);
    let plan: Plan | undefined;
    const lastGood = state?.last_good_users == null ? null : { users: state.last_good_users, memberships: state.last_good_memberships ?? 0 };
    const maxDrop = options.maxDropPercent ?? config.pull.maxDropPercent;
    const transactionStarted = performance.now();
    const written = await db.transaction(async (trx) => {
      let result: WrittenPull;
      let counts: { users: number; memberships: number };
      if (read.kind === "staged") {
        // the drop guard judges the staging before anything is applied: a suspicious pull writes nothing
        const staged = await countStagedPull(trx, scope, read.pull.staging.stageId);
        counts = { users: staged.users, memberships: staged.memberships };
        const why = suspiciousDrop(lastGood, counts, maxDrop);
        if (why) throw new SuspiciousDropError(why);
        const write = await applyStagedPull(trx, scope, read.pull.staging.stageId, runId);
        result = { write, calls: read.pull.calls, links: read.pull.links,
          pulled: { users: staged.listedUsers, deletedUsers: read.pull.staging.read.deletedUsers, groups: staged.groups, memberships: staged.memberships } };
      } else {
        result = await writeSnapshot(trx, scope, read, runId);
        counts = await countConnectionSnapshot(trx, scope);
        const why = suspiciousDrop(lastGood, counts, maxDrop);
        if (why) throw new SuspiciousDropError(why);
      }
      await runSql(trx, `update connection_sync_state set last_good_users = ?, last_good_memberships = ?, last_good_at = now()
        ${result.links ? ", users_delta_link = ?, groups_delta_link = ?, delta_links_at = now()" : ""}
        ${read.kind === "staged" ? ", last_full_at = now()" : ""} where connection_id = ?`,
        [counts.users, counts.memberships, ...(result.links ? [result.links.users, result.links.groups] : []), connectionId]);
      const changed = result.write.affectedUserIds === null || result.write.affectedUserIds.length > 0;
      if (changed) await recordSnapshotChange(trx, scope, `${kind} pull`, result.write.affectedUserIds);
      if (options.dryRun) {
        progress("planning (dry run: nothing is written)");
        const scoped = result.write.affectedUserIds === null ? "account" as const : { idpUserIds: result.write.affectedUserIds };
        plan = (await reconcileAccount(trx, scope.accountId, { trigger: "dry-run", dryRun: true, scope: scoped })).plan;
        throw new DryRunRollback();
      }
      return { ...result, counts, changed };
    }).catch((error) => {
      if (error instanceof DryRunRollback) return null;
      throw error;
    });
    // the staging's rows went with the commit
    if (written) staging = null;
    const transactionMs = Math.round(performance.now() - transactionStarted);
    progress(`snapshot transaction: ${transactionMs} ms`);
    const durationMs = performance.now() - started;
    if (!written) return { runId, status: "dry-run", calls, durationMs, counts: {}, plan };
    const counts = { ...written.pulled, ...written.write.counts, activeUsers: written.counts.users, memberships: written.counts.memberships, transactionMs };
    // the reconcile below plans on the snapshot tables this pull may just have filled
    const w = written.write.counts;
    await analyzeAfterBulkWrite(db, { idp_users: w.usersWritten + w.usersTombstoned, idp_groups: w.groupsWritten + w.groupsTombstoned,
      idp_group_members: w.membershipsAdded + w.membershipsRemoved });
    let reconcile: PullResult["reconcile"];
    if (written.changed) {
      progress("reconciling the account");
      const result = await reconcileAccount(db, scope.accountId, { trigger: `${kind} pull`, scope: "requests" });
      reconcile = { status: result.status, runId: result.runId, applied: result.applied, withheld: result.withheld };
    }
    directoryCalls.inc({ connection: connectionId, kind: config.kind }, calls);
    runsFinished.inc({ kind, status: "succeeded" });
    await runSql(db, `update sync_runs set status = 'succeeded', finished_at = now(), counts = ?::jsonb, api_calls = ?, duration_ms = ? where id = ?`,
      [JSON.stringify({ ...counts, ...(reconcile ? { reconcileStatus: reconcile.status, applied: reconcile.applied, withheld: reconcile.withheld } : {}) }), calls, Math.round(durationMs), runId]);
    await resolvePullAlerts(db, scope.accountId, connectionId);
    progress(`done: ${JSON.stringify(counts)}${reconcile ? `; reconcile ${reconcile.status}, ${reconcile.applied} changes applied` : "; nothing changed"}`);
    return { runId, status: "succeeded", calls, durationMs, counts, reconcile };
  } catch (error) {
    const { status, message } = outcomeOf(error);
    const errorCalls = error instanceof SourceUnavailableError ? error.calls : calls;
    const durationMs = performance.now() - started;
    directoryCalls.inc({ connection: connectionId, kind: config.kind }, errorCalls);
    if (runId) runsFinished.inc({ kind, status });
    if (runId) {
      await runSql(db, `update sync_runs set status = ?, finished_at = now(), error = ?, api_calls = ?, duration_ms = ? where id = ?`,
        [status, message.slice(0, 1000), errorCalls, Math.round(durationMs), runId]);
      await raisePullAlert(db, scope.accountId, connectionId, runId, status, message);
    }
    progress(`${status}: ${message}; nothing was changed`);
    return { runId, status, calls: errorCalls, durationMs, counts: {}, error: message };
  } finally {
    // a failed, suspicious or dry run: its staging rows go (the snapshot was never touched by them)
    const leftover = staging as PullStaging | null;
    if (leftover) await leftover.drop().catch((error: unknown) => progress(`could not drop the staging rows: ${error instanceof Error ? error.message : String(error)}; the next pull drops them`));
    await lease.release();
  }
}
