// `idsync <command>`: serve and migrate run here; everything else asks the running server. Only serve
// and migrate load the server stack (local-commands.ts, imported on demand), so that a client command
// starts in a fraction of a second: keep every static import below light.
import { parseArgs } from "node:util";
import { loadSettings } from "../config/settings.ts";
import { AdminClient } from "./admin-client.ts";
import { asCliError, CliError, EXIT, EXIT_CODES_HELP } from "./cli-errors.ts";
import { endQuietlyOnClosedPipes, printError } from "./output.ts";
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
with IDSYNC_ADMIN_TOKEN. The database is PostgreSQL when DATABASE_URL is set, else embedded in IDSYNC_DATA_DIR (./data).

${EXIT_CODES_HELP}`;

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

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [first, second, ...rest] = positionals;
  if (first === "serve" && !values.help) return (await import("./local-commands.ts")).serve(values["no-scheduler"] !== true);
  endQuietlyOnClosedPipes(); // not for serve: a closed terminal must not stop the server
  if (values.help || !first) return void process.stdout.write(`${USAGE}\n`);
  if (first === "migrate") return (await import("./local-commands.ts")).migrate();
  const all = { ...commands, ...reconcileCommands };
  const twoWords = all[`${first} ${second ?? ""}`.trim()];
  const command = twoWords ?? all[first];
  if (!command) throw new CliError(`unknown command "${[first, second].filter(Boolean).join(" ")}" (idsync --help lists them)`, EXIT.usage);
  const settings = loadSettings();
  const args = twoWords ? rest : [second, ...rest].filter((p): p is string => p !== undefined);
  await command({ positionals: args, values: values as never, client: new AdminClient(settings.serverUrl, settings.adminToken) });
}

const argv = process.argv.slice(2);
main(argv).catch((thrown: unknown) => {
  const error = asCliError(thrown);
  // --json is read from argv itself: parseArgs may be what failed
  printError(error, argv.includes("--json"));
  process.exit(error.exitCode);
});
