// The operator commands. Each is a client of the admin API, prints for a person or --json for a script.
import type { AdminClient } from "./admin-client.ts";
import { CliError } from "./admin-client.ts";
import { printJson, printTable } from "./output.ts";
import { readFileSync } from "node:fs";
import { parseConnectionDocument } from "../sources/connection-config.ts";

export interface CommandInput {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  client: AdminClient;
}

const json = (input: CommandInput) => input.values.json === true;

function required(input: CommandInput, name: string): string {
  const value = input.values[name];
  if (typeof value !== "string" || value === "") throw new CliError(`--${name} is required`, 2);
  return value;
}

interface IssuedToken { connection: { id: string; account_id: string; name: string }; scimBaseUrl: string; token: string; tokenPrefix: string }

function printIssued(input: CommandInput, issued: IssuedToken, heading: string): void {
  if (json(input)) return printJson(issued);
  process.stdout.write(`${heading}\n  connection:    ${issued.connection.id}\n  SCIM base URL: ${issued.scimBaseUrl}\n  SCIM token:    ${issued.token}\n` +
    `The token is shown once: paste it into Okta (API Token) or Entra (Secret Token) now.\n`);
}

export const commands: Record<string, (input: CommandInput) => Promise<void>> = {
  async "account create"(input) {
    const slug = input.positionals[0];
    if (!slug) throw new CliError("usage: idsync account create <slug> --domain <d>… [--owner <email>] [--name <name>]", 2);
    const { account } = await input.client.request<{ account: Record<string, unknown> }>("POST", "/accounts", {
      slug, domains: (input.values.domain as string[] | undefined) ?? [], ownerEmail: input.values.owner, name: input.values.name,
    });
    if (json(input)) return printJson(account);
    process.stdout.write(`account ${account.slug} created (${(account.domains as string[]).join(", ") || "no domains"})\n`);
  },

  async "account list"(input) {
    const { accounts } = await input.client.request<{ accounts: Array<Record<string, unknown>> }>("GET", "/accounts");
    if (json(input)) return printJson(accounts);
    printTable(accounts, ["slug", "name", "owner_email", "domains"]);
  },

  async "domain add"(input) {
    const account = required(input, "account");
    const name = input.positionals[0];
    if (!name) throw new CliError("usage: idsync domain add --account <slug> <domain>", 2);
    const { domain } = await input.client.request<{ domain: Record<string, unknown> }>("POST", `/accounts/${encodeURIComponent(account)}/domains`, { name });
    if (json(input)) return printJson(domain);
    process.stdout.write(`domain ${domain.name} added to ${account}; rules whose patterns match it apply from the next reconcile\n`);
  },

  async "domain list"(input) {
    const account = required(input, "account");
    const { domains } = await input.client.request<{ domains: Array<Record<string, unknown>> }>("GET", `/accounts/${encodeURIComponent(account)}/domains`);
    if (json(input)) return printJson(domains);
    printTable(domains, ["name", "id", "created_at"]);
  },

  async "connection create"(input) {
    const account = required(input, "account");
    const kind = (input.values.kind as string | undefined) ?? "scim";
    if (kind === "google" || kind === "graph") {
      const file = required(input, "config");
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
      }
      // parsed here so the server receives settings, never a file path it cannot see
      const { connection } = await input.client.request<{ connection: Record<string, unknown> }>("POST", `/accounts/${encodeURIComponent(account)}/connections`,
        { kind, name: input.values.name, config: parseConnectionDocument(text) });
      if (json(input)) return printJson(connection);
      process.stdout.write(`${kind} connection created for ${account}: ${connection.id}\nTry it without changing anything: idsync sync --connection ${connection.id} --dry-run\n`);
      return;
    }
    const issued = await input.client.request<IssuedToken>("POST", `/accounts/${encodeURIComponent(account)}/connections`, { kind, name: input.values.name });
    printIssued(input, issued, `SCIM connection created for ${account}.`);
  },

  async sync(input) {
    const connection = required(input, "connection");
    let result: Record<string, unknown> | undefined;
    await input.client.stream("POST", `/connections/${encodeURIComponent(connection)}/sync`,
      { dryRun: input.values["dry-run"] === true, mode: input.values.mode,
        maxDropPercent: input.values["max-drop-percent"] === undefined ? undefined : Number(input.values["max-drop-percent"]) }, (line) => {
        if (line.progress !== undefined && !json(input)) process.stdout.write(`… ${line.progress}\n`);
        if (line.result !== undefined) result = line.result as Record<string, unknown>;
      });
    if (!result) throw new CliError("the server ended the sync without a result; see its log");
    if (json(input)) return printJson(result);
    const seconds = (Number(result.durationMs) / 1000).toFixed(1);
    process.stdout.write(`${result.status}: ${result.calls} API calls in ${seconds} s${result.runId ? ` (run ${result.runId})` : ""}\n`);
    if (result.error) process.stdout.write(`  ${result.error}\n`);
    const rows = result.rows as Array<Record<string, unknown>> | undefined;
    if (rows) {
      process.stdout.write(rows.length === 0 ? "the plan: nothing to change\n" : `the plan (dry run, nothing applied): ${rows.length} actions\n`);
      if (rows.length > 0) printTable(rows, ["action", "who", "what", "why"]);
    }
    if (result.status === "aborted" || result.status === "failed") throw new CliError(`sync ${result.status}`, 1);
  },

  async "connection list"(input) {
    const account = required(input, "account");
    const { connections } = await input.client.request<{ connections: Array<Record<string, unknown>> }>("GET", `/accounts/${encodeURIComponent(account)}/connections`);
    if (json(input)) return printJson(connections);
    printTable(connections, ["id", "kind", "name", "status", "created_at"]);
  },

  async "token rotate"(input) {
    const connection = required(input, "connection");
    const grace = input.values["grace-minutes"] === undefined ? undefined : Number(input.values["grace-minutes"]);
    const issued = await input.client.request<IssuedToken>("POST", `/connections/${encodeURIComponent(connection)}/tokens/rotate`, { graceMinutes: grace });
    printIssued(input, issued, `New SCIM token issued; the previous ones stop working in ${grace ?? 60} minutes.`);
  },

  async "token revoke"(input) {
    const connection = required(input, "connection");
    const result = await input.client.request<{ revoked: number }>("POST", `/connections/${encodeURIComponent(connection)}/tokens/revoke`);
    if (json(input)) return printJson(result);
    process.stdout.write(`${result.revoked} token(s) revoked; this connection's IdP can no longer provision until a new token is issued\n`);
  },
};
