// `npm run demo:google`: a Google Workspace pull you can watch without a Google account. It starts a
// local fake of the Directory API holding a sample company (120 people, 8 groups, nesting, suspended
// and deleted users), gives the running `idsync serve` a Google connection to it (a real service-account
// key, signed JWTs, the real @googleapis/admin client), shows the plan of a dry run, then applies it.
// Needs: `npm start` running (any database), IDSYNC_ADMIN_TOKEN set to the token it printed.
//
// It works in an account of its own, `google-demo` (or `--account <slug>`), and never touches one it did
// not make: an existing account is refused, and `--reuse` pulls again only into one this demo made
// (its name says so). Its domain, google-demo.example.com, is no real company's.
import crypto from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AdminClient } from "../src/cli/admin-client.ts";
import { printTable } from "../src/cli/output.ts";
import { startGoogleFake } from "../test/fakes/google/google-fake.ts";
import { buildSampleDirectory, SAMPLE_ADMIN } from "../test/fakes/google/sample-directory.ts";

const DOMAIN = "google-demo.example.com";
/** The name this demo gives the accounts it makes: how a later run tells them from an operator's. */
const DEMO_ACCOUNT_NAME = "Google Workspace demo (made by npm run demo:google)";
const RULES = `version: 1
rules:
  - name: platform-admins
    group: group0@${DOMAIN}
    role: admin
  - name: senders
    group: group1@${DOMAIN}
    domains:
      ${DOMAIN}: write
  - name: staging
    group: group2@${DOMAIN}
    domains:
      staging.${DOMAIN}: read
  - name: support
    filter: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Support"'
    domains:
      ${DOMAIN}: read
`;

const log = (line = "") => process.stdout.write(`${line}\n`);

class DemoRefused extends Error {}

/** Creates the demo's account, or (with --reuse) takes one an earlier run made; any other is refused untouched. */
async function demoAccount(client: AdminClient, slug: string, reuse: boolean): Promise<void> {
  const { accounts } = await client.request<{ accounts: Array<{ slug: string; name: string }> }>("GET", "/accounts");
  const existing = accounts.find((a) => a.slug === slug);
  if (!existing) {
    await client.request("POST", "/accounts", { slug, name: DEMO_ACCOUNT_NAME, domains: [DOMAIN, `staging.${DOMAIN}`], ownerEmail: `owner@${DOMAIN}` });
    log(`account ${slug} created`);
    return;
  }
  if (existing.name !== DEMO_ACCOUNT_NAME) {
    throw new DemoRefused(`account "${slug}" exists and was not made by this demo, so it is left untouched; name another with --account <slug>`);
  }
  if (!reuse) throw new DemoRefused(`account "${slug}" was made by an earlier run of this demo; pass --reuse to pull into it again, or name another with --account <slug>`);
  log(`account ${slug} (made by an earlier run of this demo) reused`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { account: { type: "string" }, reuse: { type: "boolean" } }, strict: true });
  const slug = values.account ?? process.env.DEMO_ACCOUNT ?? "google-demo";
  const client = new AdminClient(process.env.IDSYNC_URL ?? "http://127.0.0.1:8080", process.env.IDSYNC_ADMIN_TOKEN);
  // before anything else: a refused run changes nothing
  await demoAccount(client, slug, values.reuse === true);
  // a service-account key as Google issues it; the fake knows its public half, like Google would
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const clientEmail = "idsync-demo@google-demo-idsync.iam.gserviceaccount.com";
  const keyDir = mkdtempSync(path.join(tmpdir(), "idsync-demo-"));
  const keyFile = path.join(keyDir, "google-key.json");
  writeFileSync(keyFile, JSON.stringify({ type: "service_account", project_id: "google-demo-idsync", private_key_id: "demo",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), client_email: clientEmail, client_id: "100000000000000000001",
    token_uri: "https://oauth2.googleapis.com/token" }), { mode: 0o600 });
  const fake = await startGoogleFake({
    directory: buildSampleDirectory({ users: 120, groups: 8, memberships: 300, seed: 42, domain: DOMAIN }),
    serviceAccount: { clientEmail, clientId: "100000000000000000001", publicKey },
  });
  try {
    log(`fake Directory API at ${fake.url} (a sample company, ${DOMAIN})`);
    await client.request("PUT", `/accounts/${slug}/rules`, { document: RULES });
    log(`rules set: group0 → admin, group1 → ${DOMAIN}: write, group2 → staging.${DOMAIN}: read, department Support → ${DOMAIN}: read`);
    const { connection } = await client.request<{ connection: { id: string } }>("POST", `/accounts/${slug}/connections`, {
      kind: "google", name: "Google Workspace (demo fake)",
      config: { customerId: "my_customer", subject: `${SAMPLE_ADMIN}@${DOMAIN}`, credentials: { keyFile }, fakeBaseUrl: fake.url,
        // the fake lives only as long as this script: never pull it on a schedule
        schedule: { full: "0 0 1 1 *", departures: "0 0 1 1 *" } },
    });
    log(`google connection ${connection.id}`);
    for (const dryRun of [true, false]) {
      log();
      log(dryRun ? "$ npx idsync sync --connection <id> --dry-run" : "$ npx idsync sync --connection <id>");
      let result: Record<string, unknown> = {};
      await client.stream("POST", `/connections/${connection.id}/sync`, { dryRun }, (line) => {
        if (line.progress) log(`… ${line.progress}`);
        if (line.result) result = line.result as Record<string, unknown>;
      });
      log(`${result.status}: ${result.calls} API calls in ${(Number(result.durationMs) / 1000).toFixed(1)} s`);
      const rows = result.rows as Array<Record<string, unknown>> | undefined;
      if (rows) {
        log(`the plan: ${rows.length} actions (first 15 shown)`);
        printTable(rows.slice(0, 15), ["action", "who", "what", "why"]);
      }
    }
    log();
    log(`Next: npx idsync members --account ${slug}; npx idsync runs list --account ${slug}; npx idsync audit --account ${slug}`);
  } finally {
    await fake.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(error instanceof DemoRefused ? `demo:google: ${error.message}\n` : `demo failed: ${error.message}\n`);
  process.exit(1);
});
