// `idsync serve`: open the database, migrate, make sure an operator can get in, listen, and on
// SIGTERM/SIGINT stop accepting, finish in-flight requests and close the database.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { ConfigError, type Settings } from "../config/settings.ts";
import type { Logger } from "../log/logger.ts";
import { openDatabase, type Database } from "../db/database.ts";
import { migrateToLatest } from "../db/migrations.ts";
import { createAdminToken, ensureAdminToken, hasAdminTokens } from "../accounts/admin-tokens.ts";
import { createAccount, listAccounts } from "../accounts/accounts.ts";
import { createScimConnection } from "../accounts/connections.ts";
import { createApp } from "./app.ts";
import { createHttpServer } from "./http-server.ts";
import { SCIM_PATH } from "../sources/scim/scim-router.ts";
import { PullScheduler } from "../scheduler/pull-scheduler.ts";
import { BackgroundWork } from "../scheduler/background-work.ts";
import { markInterruptedRuns } from "../scheduler/interrupted-runs.ts";
import type { PullDeps } from "../scheduler/pull-run.ts";
import { MemoryBucketStore } from "../limits/bucket-store.ts";
import { PostgresBucketStore } from "../limits/postgres-bucket-store.ts";
import { startTableStatistics } from "../db/table-statistics.ts";
import { ScimTokenCache, SCIM_TOKENS_CHANGED_CHANNEL } from "../accounts/scim-token-cache.ts";

export interface RunningServer {
  readonly url: string;
  readonly database: Database;
  close(): Promise<void>;
}

/** Printed once, to the terminal that started the server, never to the log. */
type Announce = (text: string) => void;

async function ensureOperatorAccess(database: Database, settings: Settings, announce: Announce): Promise<void> {
  if (settings.adminToken) return ensureAdminToken(database.knex, settings.adminToken, "IDSYNC_ADMIN_TOKEN");
  if (await hasAdminTokens(database.knex)) return;
  // a production server's output is its log, and a token in a log is a leaked token
  if (settings.production) {
    throw new ConfigError("IDSYNC_ADMIN_TOKEN", "required on the first start in production (NODE_ENV=production), which prints no token: set it to a secret of 16+ characters");
  }
  const token = await createAdminToken(database.knex, "initial");
  announce(`Admin token (shown once; the CLI reads it from IDSYNC_ADMIN_TOKEN):\n  export IDSYNC_ADMIN_TOKEN=${token}`);
}

async function createDemoAccount(database: Database, publicUrl: string, announce: Announce): Promise<void> {
  if ((await listAccounts(database.knex)).length > 0) return;
  await createAccount(database.knex, { slug: "demo", name: "Demo", domains: ["demo.example.com", "staging.demo.example.com"], ownerEmail: "owner@demo.example.com" }, "system:demo");
  const issued = await createScimConnection(database.knex, "demo", "Demo SCIM", "system:demo");
  announce([
    `Demo account "demo" created. Point Okta, Entra or curl at it:`,
    `  SCIM base URL: ${publicUrl}${SCIM_PATH}`,
    `  SCIM token:    ${issued.token}`,
    `  curl -H "Authorization: Bearer ${issued.token}" ${publicUrl}${SCIM_PATH}/Users`,
  ].join("\n"));
}

export interface ServeOptions {
  /** Run reconciles in this process (off for HTTP-only replicas: `serve --no-scheduler`). */
  readonly scheduler?: boolean;
  readonly announce?: Announce;
  /** Tests and the demo: how pulls reach their directories (local fakes). */
  readonly pullDeps?: (connectionId: string) => PullDeps;
  /** The embedded database cannot go on: the caller stops the process so its supervisor restarts it. */
  readonly onDatabaseLost?: () => void;
}

export async function startServer(settings: Settings, log: Logger, options: ServeOptions = {}): Promise<RunningServer> {
  const announce = options.announce ?? ((t: string) => process.stdout.write(`${t}\n`));
  const database = await openDatabase({
    databaseUrl: settings.databaseUrl,
    dataDir: settings.dataDir,
    onEmbeddedLost(error) {
      log.fatal({ err: error }, "the embedded database's session failed; every query now fails until idsync restarts");
      options.onDatabaseLost?.();
    },
  });
  let unlistenTokens: (() => Promise<void>) | undefined;
  try {
    const ran = await migrateToLatest(database.knex);
    if (ran.length > 0) log.info({ migrations: ran }, "database migrated");
    await ensureOperatorAccess(database, settings, announce);
    // a previous process killed mid-pull left its run "running" and its lease held: mark and free them
    const interrupted = await markInterruptedRuns(database.knex, { singleProcess: database.kind === "pglite" });
    if (interrupted.marked > 0 || interrupted.leasesReleased > 0) log.warn(interrupted, "runs interrupted by an earlier stop were marked failed; their connections are pulled again");
    // verified SCIM tokens are remembered a few seconds; a revocation anywhere in the fleet ends that at
    // once. Listening starts before the port opens: between the two, no request may arrive that nothing
    // answers (a request with no "request" handler attached yet would hang until the client gives up)
    const scimTokens = new ScimTokenCache({ ttlMs: settings.scimTokenCacheSeconds * 1000 });
    unlistenTokens = await database.listen(SCIM_TOKENS_CHANGED_CHANNEL, (payload) => scimTokens.onChanged(payload));
    const server = createHttpServer();
    server.listen(settings.port, settings.host);
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const publicUrl = settings.publicUrl ?? `http://127.0.0.1:${port}`;
    if (settings.production && !settings.publicUrl) {
      log.warn({ url: publicUrl }, "IDSYNC_PUBLIC_URL is unset: SCIM Location headers and printed base URLs name this loopback address, which clients elsewhere cannot reach");
    }
    // pulls run on request (`idsync sync`) everywhere, on their schedules only where the scheduler runs
    const pulls = new PullScheduler({ db: database.knex, log, depsFor: options.pullDeps });
    // rate limits are shared through PostgreSQL by every replica; the embedded database has one process
    const limitStore = database.kind === "pglite" ? new MemoryBucketStore() : new PostgresBucketStore(database.knex);
    // attached before any await: a request accepted on the port must find its handler
    server.on("request", createApp({ db: database.knex, log, settings, publicUrl, pulls, limitStore, scimTokens }));
    if (settings.demoAccount && database.kind === "pglite") await createDemoAccount(database, publicUrl, announce);
    // the background (reconciles, full reconciles, pulls, webhooks) runs where the scheduler runs;
    // HTTP-only replicas (`serve --no-scheduler`) only write the rows that wake it
    const background = options.scheduler === false ? undefined : new BackgroundWork({
      database, log, pulls, fullReconcileSchedule: settings.fullReconcileSchedule, concurrency: settings.workerConcurrency, replica: settings.replicaName,
    });
    if (background) {
      await background.start();
      // retried now rather than at their next schedule (a reconcile needs no retry: its request is still queued)
      for (const connectionId of interrupted.connectionIds) {
        await background.retryPull(connectionId).catch((error) => log.error({ err: error, connectionId }, "retrying an interrupted pull failed"));
      }
    }
    // every process, HTTP-only replicas too: the statistics are the database's, and SCIM pushes arrive there
    const statistics = startTableStatistics(database.knex, log);
    log.info({ url: publicUrl, database: database.description, scheduler: background !== undefined, queue: background?.queue.kind, replica: settings.replicaName }, "idsync listening");

    let closing: Promise<void> | undefined;
    return {
      url: publicUrl,
      database,
      close: () => (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await pulls.stop();
        await background?.stop();
        await statistics.stop();
        await unlistenTokens?.();
        await database.close();
      })()),
    };
  } catch (error) {
    await unlistenTokens?.();
    await database.close();
    throw error;
  }
}
