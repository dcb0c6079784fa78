// `idsync <command>`: serve and migrate run here; everything else asks the running server.
import { parseArgs } from "node:util";
import { loadSettings, ConfigError } from "../config/settings.ts";
import { createLogger } from "../log/logger.ts";
import { openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrations.ts";
import { startServer, type RunningServer } from "../http/server.ts";
import { AdminClient, CliError } from "./admin-client.ts";
import { commands } from "./commands.ts";
import { reconcileCommands } from "./reconcile-commands.ts";

const USAGE = `usage: idsync <command> [options]

  serve [--no-scheduler]                  run the SCIM endpoint, admin API and reconciles (PORT, default 8080)
  migrate                                 bring the database schema up to date
  account create <slug> --domain <d>… [--owner <email>] [--name <name>]
  account list
  domain add --account <slug> <domain> | domain list --account <slug>
  connection create --account <slug> --kind scim [--name <name>]
                                          prints the SCIM base URL and token, once
  connection create --account <slug> --kind google|graph --config <file> [--name <name>]
                                          a pulled directory (docs/google-setup.md, docs/graph-setup.md)
  connection list --account <slug>
  token rotate --connection <id> [--grace-minutes <n>]   (default 60: old tokens keep working that long)
  token revoke --connection <id>
  rules check <file>                      validate a rules document (YAML or JSON); stores nothing
  rules set --account <slug> <file>       store the account's rules and reconcile it
  rules get --account <slug>
  plan --account <slug>                   the changes a reconcile would make (dry run)
  reconcile --account <slug>              apply them now
  sync --connection <id> [--dry-run] [--mode full|departures|delta] [--max-drop-percent <n>]
                                          pull a Google or Graph connection now, showing its progress
  runs list --account <slug>
  runs approve <run id> [--email <person>]   apply what a held run showed (all of it, or one person's part)
  runs reject <run id> [--email <person>]    keep that access until the person's IdP facts change
  runs kept --account <slug>                 who keeps access by an operator's decision
  runs lift --account <slug> [--email <person>]   end rejections: the removals are planned again, through the brake
  members --account <slug>                who has which role and domains, and who manages them
  review --account <slug>                 access review: every person's access, the rule and source, since when
  audit --account <slug> [--action key.revoked|member.] [--run <run id>] [--email <person>]
  keys create --account <slug> --email <user> [--name <n>] [--domain <d>…] [--org]
  keys list --account <slug>
  sessions create --account <slug> --email <user>
  invitations create --account <slug> --email <address> [--role member|admin] [--invited-by <user>]

Every operator command takes --json. They reach the server at IDSYNC_URL (default http://127.0.0.1:8080)
with IDSYNC_ADMIN_TOKEN. The database is PostgreSQL when DATABASE_URL is set, else embedded in IDSYNC_DATA_DIR (./data).`;

const OPTIONS = {
  json: { type: "boolean" },
  "no-scheduler": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  domain: { type: "string", multiple: true },
  owner: { type: "string" },
  name: { type: "string" },
  account: { type: "string" },
  kind: { type: "string" },
  connection: { type: "string" },
  "grace-minutes": { type: "string" },
  email: { type: "string" },
  org: { type: "boolean" },
  role: { type: "string" },
  "invited-by": { type: "string" },
  config: { type: "string" },
  "dry-run": { type: "boolean" },
  "max-drop-percent": { type: "string" },
  action: { type: "string" },
  run: { type: "string" },
  mode: { type: "string" },
} as const;

async function serve(scheduler: boolean): Promise<void> {
  const settings = loadSettings();
  const log = createLogger(settings.logLevel);
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "shutting down");
    (server?.close() ?? Promise.resolve()).then(() => process.exit(exitCode), (error) => {
      log.error({ err: error }, "shutdown failed");
      process.exit(1);
    });
  };
  // 70 (EX_SOFTWARE): a failure the supervisor answers with a restart
  server = await startServer(settings, log, { scheduler, onDatabaseLost: () => stop("embedded database lost", 70) });
  process.once("SIGTERM", () => stop("SIGTERM", 0));
  process.once("SIGINT", () => stop("SIGINT", 0));
}

async function migrate(): Promise<void> {
  const settings = loadSettings();
  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  try {
    const ran = await migrateToLatest(database.knex);
    process.stdout.write(ran.length ? `applied ${ran.join(", ")} to ${database.description}\n` : `${database.description} is up to date\n`);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [first, second, ...rest] = positionals;
  if (values.help || !first) return void process.stdout.write(`${USAGE}\n`);
  if (first === "serve") return serve(values["no-scheduler"] !== true);
  if (first === "migrate") return migrate();
  const all = { ...commands, ...reconcileCommands };
  const twoWords = all[`${first} ${second ?? ""}`.trim()];
  const command = twoWords ?? all[first];
  if (!command) throw new CliError(`unknown command "${[first, second].filter(Boolean).join(" ")}"\n\n${USAGE}`, 2);
  const settings = loadSettings();
  const args = twoWords ? rest : [second, ...rest].filter((p): p is string => p !== undefined);
  await command({ positionals: args, values: values as never, client: new AdminClient(settings.serverUrl, settings.adminToken) });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof CliError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`idsync: ${(error as Error).message}\n`);
  if (!known) process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(error instanceof CliError ? error.exitCode : known ? 2 : 1);
});
