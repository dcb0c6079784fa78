// The README's path, as a newcomer runs it: `idsync serve` on the embedded database in a fresh data
// directory, then the operator commands against it over the admin API.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startServeProcess } from "../support/serve-process.ts";
import { runIdsync, STACK_FRAME, type Ran } from "./cli-process.ts";

const ADMIN_TOKEN = "cli-test-admin-token-0123456789";

let dataDir: string;
let server: ChildProcess;
let output: () => string;
let url: string;

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return { ...env, IDSYNC_DATA_DIR: dataDir, LOG_LEVEL: "info", ...extra };
}

const idsync = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
  runIdsync(args, baseEnv({ IDSYNC_URL: url, IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN, ...env }));

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "idsync-cli-"));
  const started = await startServeProcess(baseEnv({ PORT: "0", HOST: "127.0.0.1", IDSYNC_ADMIN_TOKEN: ADMIN_TOKEN }));
  ({ child: server, url, output } = started);
}, 90_000);

afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const scimStatus = async (token: string) =>
  (await fetch(`${url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } })).status;

test("first start creates a demo account and prints a working SCIM token, never logging it", async () => {
  const token = /SCIM token:\s+(idsync_scim_\S+)/.exec(output())?.[1];
  expect(token).toBeDefined();
  expect(await scimStatus(token!)).toBe(200);
  const logLines = output().split("\n").filter((line) => line.startsWith("{"));
  expect(logLines.length).toBeGreaterThan(0);
  expect(logLines.some((line) => line.includes(token!) || line.includes(ADMIN_TOKEN))).toBe(false);
});

test("account create, connection create, token rotate and revoke work end to end with --json", async () => {
  const account = await idsync(["account", "create", "acme", "--domain", "acme.com", "--domain", "staging.acme.com", "--owner", "owner@acme.com", "--json"]);
  expect(account.code).toBe(0);
  expect(JSON.parse(account.stdout)).toMatchObject({ slug: "acme", domains: ["acme.com", "staging.acme.com"], owner_email: "owner@acme.com" });

  const created = JSON.parse((await idsync(["connection", "create", "--account", "acme", "--kind", "scim", "--json"])).stdout);
  expect(created.scimBaseUrl).toBe(`${url}/scim/v2`);
  expect(await scimStatus(created.token)).toBe(200);

  const rotated = JSON.parse((await idsync(["token", "rotate", "--connection", created.connection.id, "--grace-minutes", "0", "--json"])).stdout);
  expect(await scimStatus(rotated.token)).toBe(200);
  expect(await scimStatus(created.token)).toBe(401);

  const revoked = JSON.parse((await idsync(["token", "revoke", "--connection", created.connection.id, "--json"])).stdout);
  expect(revoked.revoked).toBe(1);
  expect(await scimStatus(rotated.token)).toBe(401);

  const listed = JSON.parse((await idsync(["account", "list", "--json"])).stdout);
  expect(listed.map((a: { slug: string }) => a.slug)).toEqual(["acme", "demo"]);
});

test("operator mistakes get one clear line and a non-zero exit", async () => {
  const noToken = await idsync(["account", "list"], { IDSYNC_ADMIN_TOKEN: "" });
  expect(noToken.code).toBe(4); // authentication (idsync --help: exit codes)
  expect(noToken.stderr).toMatch(/IDSYNC_ADMIN_TOKEN is not set/);
  const wrongToken = await idsync(["account", "list"], { IDSYNC_ADMIN_TOKEN: "wrong-token-wrong-token" });
  expect(wrongToken.stderr).toMatch(/401/);
  const duplicate = await idsync(["account", "create", "acme", "--domain", "acme.com"]);
  expect(duplicate.stderr).toMatch(/already exists/);
  const badDomain = await idsync(["account", "create", "other", "--domain", "not a domain"]);
  expect(badDomain.stderr).toMatch(/not a valid domain/);
  const unknown = await idsync(["connection", "create"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/--account is required/);
});

test("rules, plan, reconcile, members, keys and audit through the CLI, with the worker applying SCIM changes", async () => {
  const token = /SCIM token:\s+(idsync_scim_\S+)/.exec(output())![1]!;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SCIM JSON as the test reads it
  const scim = async (method: string, p: string, body?: unknown): Promise<any> => {
    const r = await fetch(`${url}/scim/v2${p}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return r.status === 204 ? undefined : r.json();
  };
  const dev = await scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "dev@demo.example.com" });
  const group = await scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Developers" });
  await scim("PATCH", `/Groups/${group.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: dev.id }] }] });

  const bad = path.join(dataDir, "bad-rules.yaml");
  fs.writeFileSync(bad, "version: 1\nrules:\n  - group: Developers\n    role: superuser\n");
  const checked = await idsync(["rules", "check", bad]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toMatch(/line 4: .*role must be owner, admin or member/);

  const good = path.join(dataDir, "rules.yaml");
  fs.writeFileSync(good, "version: 1\nrules:\n  - name: devs\n    group: Developers\n    domains:\n      staging.demo.example.com: write\n");
  expect((await idsync(["rules", "check", good])).stdout).toMatch(/valid: 1 rule/);
  const planned = await idsync(["plan", "--account", "demo"]);
  expect(planned.stdout).toMatch(/nothing to change/); // no rules stored yet: nothing is granted
  expect((await idsync(["rules", "set", "--account", "demo", good])).code).toBe(0);
  expect((await idsync(["rules", "get", "--account", "demo"])).stdout).toContain("staging.demo.example.com: write");

  // the worker inside serve reconciles the rule change on its own
  let members: Array<{ email: string; role: string; grants: unknown[] }> = [];
  for (let i = 0; i < 100 && !members.some((m) => m.email === "dev@demo.example.com"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    members = JSON.parse((await idsync(["members", "--account", "demo", "--json"])).stdout);
  }
  expect(members.find((m) => m.email === "dev@demo.example.com")).toMatchObject({ role: "member", grants: [{ domain: "staging.demo.example.com", access: "write" }] });

  const key = JSON.parse((await idsync(["keys", "create", "--account", "demo", "--email", "dev@demo.example.com", "--name", "ci", "--json"])).stdout);
  expect(key).toMatchObject({ scope: "domains" });
  const refused = await idsync(["keys", "create", "--account", "demo", "--email", "dev@demo.example.com", "--org"]);
  expect(refused.stderr).toMatch(/only admins and the owner/);

  expect((await idsync(["sessions", "create", "--account", "demo", "--email", "dev@demo.example.com"])).code).toBe(0);
  expect((await idsync(["invitations", "create", "--account", "demo", "--email", "friend@example.org", "--invited-by", "dev@demo.example.com"])).stdout).toMatch(/pending/);

  await scim("PATCH", `/Users/${dev.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] });
  let keys: Array<{ id: string; revoked_at: string | null }> = [];
  for (let i = 0; i < 100 && !keys.find((k) => k.id === key.id)?.revoked_at; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    keys = JSON.parse((await idsync(["keys", "list", "--account", "demo", "--json"])).stdout);
  }
  expect(keys.find((k) => k.id === key.id)?.revoked_at).not.toBeNull();
  const audit = (await idsync(["audit", "--account", "demo"])).stdout;
  expect(audit).toMatch(/key\.revoked/);
  expect(audit).toMatch(/member\.deprovisioned/);
  expect(audit).toMatch(/session\.revoked/);
  expect(audit).toMatch(/invitation\.revoked/);
  expect((await idsync(["review", "--account", "demo"])).stdout).toMatch(/owner@demo\.example\.com\s+\S+\s+owner/);
});

test("a second process cannot open the embedded data directory, and SIGTERM closes it cleanly", async () => {
  const second = await idsync(["migrate"]);
  expect(second.code).not.toBe(0);
  expect(second.stderr).toMatch(/in use by process \d+/);
  expect(second.stderr).not.toMatch(STACK_FRAME);

  const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
  server.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(fs.existsSync(path.join(dataDir, "pglite.lock"))).toBe(false);
  const reopened = await idsync(["migrate"]);
  expect(reopened.stdout).toMatch(/up to date/);
});
