// The service-account path end to end: the real JWT client signs an assertion the fake verifies
// (RS256, iss, aud, sub, delegated scopes), and each way delegation can be wrong becomes a
// SourceConfigError whose fix says what the admin must do. Also the connection settings check.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { fullPull } from "../../../src/sources/google/full-pull.ts";
import { validateGoogleConnection } from "../../../src/sources/google/google-connection.ts";
import { SourceConfigError } from "../../../src/sources/pull-errors.ts";
import { FAKE_DIRECTORY_SCOPES, startGoogleFake, type GoogleFake } from "../../fakes/google/google-fake.ts";
import { buildSampleDirectory } from "../../fakes/google/sample-directory.ts";
import { ADMIN, FAST_RETRY, serviceAccountKey } from "./google-test-kit.ts";

const key = serviceAccountKey();
let fake: GoogleFake | undefined;

async function start(options: { serviceAccountIsAdmin?: boolean } = {}) {
  const started = await startGoogleFake({ directory: buildSampleDirectory({ users: 30, groups: 3, memberships: 20 }), serviceAccount: key.serviceAccount, ...options });
  fake = started;
  return started;
}

function connection(extra: Record<string, unknown> = {}) {
  return { customerId: "my_customer", subject: ADMIN, credentials: { keyEnv: "GOOGLE_SA_KEY" }, fakeBaseUrl: fake!.url, ...extra };
}

const deps = { env: { GOOGLE_SA_KEY: key.json }, retry: FAST_RETRY };

async function refusal(promise: Promise<unknown>): Promise<SourceConfigError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SourceConfigError);
  return error as SourceConfigError;
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("service account with domain-wide delegation", () => {
  test("a key from an environment variable: one token request, then the pull", async () => {
    const f = await start();
    const pull = await fullPull(connection(), deps);
    expect(pull.users.length).toBeGreaterThan(20);
    expect(f.calls.matching("token")).toBe(1);
    expect(pull.calls).toBe(f.calls.api);
  });

  test("a key file works the same", async () => {
    const f = await start();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "idsync-google-")), "sa.json");
    fs.writeFileSync(file, key.json, { mode: 0o600 });
    const pull = await fullPull(connection({ credentials: { keyFile: file } }), { retry: FAST_RETRY });
    expect(pull.groups).toHaveLength(3);
  });

  test("delegation missing a scope: 401 unauthorized_client, fix names the client id and scopes", async () => {
    const f = await start();
    f.knobs.delegatedScopes = [FAKE_DIRECTORY_SCOPES[2]!];
    const error = await refusal(fullPull(connection(), deps));
    expect(error.message).toMatch(/unauthorized_client/);
    expect(error.fix).toContain("grant domain-wide delegation");
    expect(error.fix).toContain(`client id ${key.serviceAccount.clientId}`);
    expect(error.fix).toContain("https://www.googleapis.com/auth/admin.directory.group.readonly");
    expect(f.calls.api).toBe(0);
  });

  test("a subject that is not a user of the Workspace: invalid_grant", async () => {
    const f = await start();
    const error = await refusal(fullPull(connection({ subject: "nobody@example.com" }), deps));
    expect(error.fix).toMatch(/subject nobody@example.com must be an existing, active Workspace admin user/);
  });

  test("a subject who is a user but no admin: 403 from the API, not retried", async () => {
    const f = await start();
    const error = await refusal(fullPull(connection({ subject: "user1@example.com" }), deps));
    expect(error.status).toBe(403);
    expect(error.fix).toMatch(/user1@example.com must be an admin with Directory read privileges/);
    expect(f.calls.api).toBe(1);
  });

  test("a key the service account does not have (deleted or rotated)", async () => {
    const f = await start();
    const other = serviceAccountKey(key.serviceAccount.clientEmail);
    const error = await refusal(fullPull(connection(), { ...deps, env: { GOOGLE_SA_KEY: other.json } }));
    expect(error.message).toMatch(/Invalid JWT Signature/);
    expect(error.fix).toMatch(/create a new JSON key/);
  });

  test("revoked tokens: the API's 401 is a config error, not retried", async () => {
    const f = await start();
    f.knobs.fail("users", { status: 401, body: { error: { code: 401, message: "Invalid Credentials", errors: [{ domain: "global", reason: "authError" }] } } });
    const error = await refusal(fullPull(connection(), deps));
    expect(error.status).toBe(401);
    expect(f.calls.api).toBe(1);
  });
});

describe("service account holding an admin role (no subject)", () => {
  test("works when the role is assigned", async () => {
    const f = await start({ serviceAccountIsAdmin: true });
    const pull = await fullPull(connection({ subject: undefined }), deps);
    expect(pull.users.length).toBeGreaterThan(20);
  });

  test("without the role: the fix says to assign one or set a subject", async () => {
    const f = await start();
    const error = await refusal(fullPull(connection({ subject: undefined }), deps));
    expect(error.fix).toMatch(/service account must hold an admin role .* or set subject/);
  });
});

describe("key references", () => {
  test("an unset environment variable is named, no call made", async () => {
    const f = await start();
    const error = await refusal(fullPull(connection({ credentials: { keyEnv: "IDSYNC_MISSING_KEY" } }), { env: {} }));
    expect(error.message).toContain("IDSYNC_MISSING_KEY");
    expect(f.calls.total).toBe(0);
  });

  test("an unreadable key file", async () => {
    const f = await start();
    await refusal(fullPull(connection({ credentials: { keyFile: "/nonexistent/sa.json" } }), {}));
  });
});

describe("validateGoogleConnection", () => {
  test("applies defaults and freezes", () => {
    const check = validateGoogleConnection({ customerId: "C01abcd23", subject: "admin@example.com", credentials: { keyEnv: "GOOGLE_SA_KEY" } });
    expect(check).toMatchObject({ ok: true, config: { quotaPerMinute: 1920, concurrency: 10 } });
    expect(check.ok && Object.isFrozen(check.config)).toBe(true);
  });

  test("every bad field gets one sentence", () => {
    const check = validateGoogleConnection({
      customerId: "acme", subject: "not-an-email", credentials: { keyEnv: "-----BEGIN PRIVATE KEY-----" },
      groupEmails: ["ok@example.com", "bad"], quotaPerMinute: 0, concurrency: 500, fakeBaseUrl: "ftp://x", colour: "blue",
    });
    expect(check.ok).toBe(false);
    const errors = check.ok ? [] : check.errors;
    for (const fragment of ["unknown setting \"colour\"", "customerId", "subject", "keyEnv must be the NAME", "groupEmails", "quotaPerMinute", "concurrency", "fakeBaseUrl"]) {
      expect(errors.some((e) => e.includes(fragment))).toBe(true);
    }
    expect(errors.join(" ")).not.toContain("PRIVATE KEY-----");
  });

  test("exactly one key reference; a key pasted as a file path is refused", () => {
    expect(validateGoogleConnection({ customerId: "my_customer", credentials: {} }).ok).toBe(false);
    expect(validateGoogleConnection({ customerId: "my_customer", credentials: { keyFile: "/a", keyEnv: "B" } }).ok).toBe(false);
    expect(validateGoogleConnection({ customerId: "my_customer", credentials: { keyFile: '{"type":"service_account"}' } }).ok).toBe(false);
    expect(validateGoogleConnection({ customerId: "my_customer", credentials: { keyFile: "/etc/idsync/sa.json" } }).ok).toBe(true);
  });
});
