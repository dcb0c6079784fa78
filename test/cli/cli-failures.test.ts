// How the CLI fails, against a real `idsync serve` on the embedded database: --json errors are one JSON
// object on stderr with the documented exit code, a reader that stops early (`| head -1`) ends the
// command quietly, start-up failures are one line without a stack, and a token of the wrong kind is
// named as such (by the admin API itself, and so by the CLI).
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startServeProcess } from "../support/serve-process.ts";
import { runIdsync, runPiped, STACK_FRAME, type Ran } from "./cli-process.ts";

const ADMIN_TOKEN = "cli-failures-admin-token-0123456789";

let dataDir: string;
let server: ChildProcess;
let url: string;
let scimToken: string;

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return { ...env, IDSYNC_DATA_DIR: dataDir, LOG_LEVEL: "info", ...extra };
}

const idsync = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
  runIdsync(args, baseEnv({ IDSYNC_URL: url, IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN, ...env }));

/** The one JSON error object a --json command wrote to stderr (JSON.parse fails on anything more). */
const jsonError = (ran: Ran) => JSON.parse(ran.stderr) as { error: { code: string; message: string; status?: number } };

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-cli-failures-"));
  const started = await startServeProcess(baseEnv({ PORT: "0", HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN }));
  ({ child: server, url } = started);
  scimToken = /SCIM token:\s+(idsync_scim_\S+)/.exec(started.output())![1]!;
}, 90_000);

afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test("--help documents the exit codes and the --json error shape", async () => {
  const help = await idsync(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+done\n\s+1\s+the server refused/);
  expect(help.stdout).toMatch(/^\s+4\s+authentication/m);
  expect(help.stdout).toContain(`{"error":{"code":"…","message":"…","status":404}}`);
});

test("with --json every error is one JSON object on stderr, with its exit code", async () => {
  const notFound = await idsync(["domain", "list", "--account", "nope", "--json"]);
  expect(notFound).toMatchObject({ code: 1, stdout: "" });
  expect(jsonError(notFound)).toEqual({ error: { code: "not_found", status: 404, message: `no account "nope"` } });

  const badInput = await idsync(["account", "create", "other", "--domain", "not a domain", "--json"]);
  expect(badInput.code).toBe(1);
  expect(jsonError(badInput).error).toMatchObject({ code: "bad_request", status: 400, message: expect.stringMatching(/not a valid domain/) });

  const unknownOption = await idsync(["account", "list", "--bogus", "--json"]);
  expect(unknownOption.code).toBe(2);
  expect(jsonError(unknownOption).error).toMatchObject({ code: "usage", message: expect.stringMatching(/Unknown option '--bogus'/) });

  const unknownCommand = await idsync(["frobnicate", "--json"]);
  expect(unknownCommand.code).toBe(2);
  expect(jsonError(unknownCommand).error).toMatchObject({ code: "usage", message: expect.stringMatching(/unknown command "frobnicate"/) });

  const missingOption = await idsync(["connection", "create", "--json"]);
  expect(missingOption.code).toBe(2);
  expect(jsonError(missingOption)).toEqual({ error: { code: "usage", message: "--account is required" } });

  const badConfig = await idsync(["account", "list", "--json"], { IDSYNC_URL: "not a url" });
  expect(badConfig.code).toBe(2);
  expect(jsonError(badConfig).error).toMatchObject({ code: "config", message: expect.stringMatching(/^IDSYNC_URL: /) });

  const noToken = await idsync(["account", "list", "--json"], { IDSYNC_ADMIN_TOKEN: "" });
  expect(noToken.code).toBe(4);
  expect(jsonError(noToken).error).toMatchObject({ code: "no_admin_token", message: expect.stringMatching(/IDSYNC_ADMIN_TOKEN is not set/) });

  const unreachable = await idsync(["account", "list", "--json"], { IDSYNC_URL: `http://127.0.0.1:${await closedPort()}` });
  expect(unreachable.code).toBe(3);
  expect(jsonError(unreachable).error).toMatchObject({ code: "unreachable", message: expect.stringMatching(/cannot reach idsync at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/) });

  // a command's own check failing: the problems on stdout (its result), the error on stderr
  const rules = path.join(dataDir, "bad-rules.yaml");
  fs.writeFileSync(rules, "version: 1\nrules:\n  - group: Developers\n    role: superuser\n");
  const invalid = await idsync(["rules", "check", rules, "--json"]);
  expect(invalid.code).toBe(1);
  expect(JSON.parse(invalid.stdout)).toMatchObject({ valid: false, problems: [{ line: 4 }] });
  expect(jsonError(invalid).error).toMatchObject({ code: "failed", message: expect.stringMatching(/1 problem/) });
});

test("without --json an error is one line on stderr, and no stack", async () => {
  const notFound = await idsync(["domain", "list", "--account", "nope"]);
  expect(notFound.code).toBe(1);
  expect(notFound.stderr).toBe(`idsync: 404 Not Found: no account "nope"\n`);
  const unreachable = await idsync(["account", "list"], { IDSYNC_URL: `http://127.0.0.1:${await closedPort()}` });
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(unreachable.stderr).not.toMatch(STACK_FRAME);
});

test("a SCIM token sent as an admin token is named as such, by the admin API and by the CLI", async () => {
  const response = await fetch(`${url}/admin/v1/accounts`, { headers: { authorization: `Bearer ${scimToken}` } });
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(await response.json()).toMatchObject({ status: 401, title: "Unauthorized", detail: expect.stringMatching(/^This is a SCIM token, not an admin token/) });

  const viaCli = await idsync(["account", "list"], { IDSYNC_ADMIN_TOKEN: scimToken });
  expect(viaCli.code).toBe(4);
  expect(viaCli.stderr).toMatch(/^idsync: 401 Unauthorized: This is a SCIM token, not an admin token/);
  expect(viaCli.stderr).not.toContain(scimToken); // a secret is never echoed

  const asJson = await idsync(["account", "list", "--json"], { IDSYNC_ADMIN_TOKEN: scimToken });
  expect(jsonError(asJson).error).toMatchObject({ code: "unauthorized", status: 401, message: expect.stringMatching(/^This is a SCIM token, not an admin token/) });

  // the SCIM token still works where it belongs: naming its kind did not look it up or spend it
  expect((await fetch(`${url}/scim/v2/Users`, { headers: { authorization: `Bearer ${scimToken}` } })).status).toBe(200);

  const unknown = await idsync(["account", "list"], { IDSYNC_ADMIN_TOKEN: "idsync_admin_not-issued-by-this-server-00000" });
  expect(unknown.code).toBe(4);
  expect(unknown.stderr).toMatch(/^idsync: 401 Unauthorized: This is not a valid admin token/);
  const missing = await fetch(`${url}/admin/v1/accounts`);
  expect(((await missing.json()) as { detail: string }).detail).toMatch(/^An admin token is required/);
});

test("a reader that stops early (| head -1) ends the command quietly, with the first line printed", async () => {
  const members = await runPiped(["members", "--account", "demo"], "head -1", baseEnv({ IDSYNC_URL: url, IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN }));
  expect(members).toMatchObject({ code: 0, stderr: "" });
  expect(members.stdout).toMatch(/^email\s+user_id\s+role\s+status\s+managed_by\s+rule\s+grants\n$/);

  // output far larger than a pipe holds (64 KiB), so `head` certainly closes the pipe before idsync has
  // written it all: its next write fails with EPIPE
  expect((await idsync(["account", "create", "pipes", "--domain", "pipes.example.com"])).code).toBe(0);
  const padding = Array.from({ length: 4000 }, (_, i) => `# padding ${i}: a comment line long enough to fill the pipe quickly`).join("\n");
  const rules = path.join(dataDir, "long-rules.yaml");
  fs.writeFileSync(rules, `version: 1\n${padding}\nrules:\n  - name: devs\n    group: Developers\n    domains:\n      pipes.example.com: read\n`);
  expect(fs.statSync(rules).size).toBeGreaterThan(4 * 64 * 1024);
  expect((await idsync(["rules", "set", "--account", "pipes", rules])).code).toBe(0);
  for (const args of [["rules", "get", "--account", "pipes"], ["rules", "get", "--account", "pipes", "--json"]]) {
    const piped = await runPiped(args, "head -1", baseEnv({ IDSYNC_URL: url, IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN }));
    expect(piped).toMatchObject({ code: 0, stderr: "" });
    expect(piped.stdout).toBe(args.includes("--json") ? "{\n" : "version: 1\n");
  }
});

test("start-up failures are one line without a stack: data directory in use, bad config, database unreachable", async () => {
  const env = baseEnv({ PORT: "0", HOST: "127.0.0.1" });
  const second = await runIdsync(["serve"], env);
  expect(second.code).toBe(5);
  expect(second.stderr).toBe(`idsync: the data directory ${path.join(dataDir, "pglite")} is in use by process ${server.pid}; ` +
    "with the embedded database only one idsync process may open it (use the CLI against the running server, or set DATABASE_URL)\n");

  const asJson = await runIdsync(["migrate", "--json"], env);
  expect(asJson.code).toBe(5);
  expect(jsonError(asJson).error).toMatchObject({ code: "data_dir_in_use", message: expect.stringMatching(/in use by process/) });

  const badPort = await runIdsync(["serve"], { ...env, PORT: "eighty" });
  expect(badPort).toMatchObject({ code: 2, stderr: `idsync: PORT: expected a whole number from 0 to 65535, got "eighty"\n` });

  const noDatabase = await runIdsync(["serve"], { ...env, DATABASE_URL: `postgres://idsync:secret-password@127.0.0.1:${await closedPort()}/idsync` });
  expect(noDatabase.code).toBe(5);
  expect(noDatabase.stderr).toMatch(/^idsync: cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/idsync \(connect ECONNREFUSED [^)]+\): is it running, and is DATABASE_URL right\?\n$/);
  expect(noDatabase.stderr).not.toContain("secret-password");
});

test("a busy port is one line without a stack, and the data directory is released", async () => {
  const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
  server.kill("SIGTERM");
  expect(await exited).toBe(0);

  const squatter = net.createServer().listen(0, "127.0.0.1");
  await once(squatter, "listening");
  const { port } = squatter.address() as net.AddressInfo;
  try {
    const busy = await runIdsync(["serve"], baseEnv({ PORT: String(port), HOST: "127.0.0.1" }));
    expect(busy.code).toBe(5);
    expect(busy.stderr).toBe(`idsync: port ${port} on 127.0.0.1 is already in use by another process: stop it, or set PORT to a free port\n`);
  } finally {
    squatter.close();
  }
  expect(fs.existsSync(path.join(dataDir, "pglite.lock"))).toBe(false);
  expect((await runIdsync(["migrate"], baseEnv())).stdout).toMatch(/up to date/);
});
