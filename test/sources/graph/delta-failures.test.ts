// How a Graph delta pull fails: every failure is one of the pull errors, with the HTTP calls counted exactly.
import { afterEach, describe, expect, it } from "vitest";
import { deltaPull } from "../../../src/sources/graph/delta-pull.ts";
import { trustExtraCa } from "../../../src/sources/graph/extra-ca-trust.ts";
import { makeGraphCredential } from "../../../src/sources/graph/graph-credential.ts";
import type { GraphThrottleSignal } from "../../../src/sources/graph/graph-retry.ts";
import { DeltaResyncRequired, IncompletePullError, SourceConfigError, SourceUnavailableError } from "../../../src/sources/pull-errors.ts";
import { startGraphFake, type GraphFake } from "../../fakes/graph/graph-fake.ts";
import { generateTenant } from "../../fakes/graph/tenant-generator.ts";
import { configFor, depsFor, NO_LINKS, SECRET_ENV } from "./graph-fixture.ts";

let fake: GraphFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function smallFake(): Promise<GraphFake> {
  const { tenant } = generateTenant({ seed: 5, users: 250, groups: 8, memberships: 200 });
  fake = await startGraphFake({ tenant, pageSize: { users: 100, groups: 100 } }); // users: 3 pages, groups: 1
  return fake;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error("the pull succeeded"); }, (error: unknown) => error);
}

describe("Graph delta pull failures", () => {
  it("raises DeltaResyncRequired for expired delta tokens (410 syncStateNotFound) and unknown ones (resyncRequired)", async () => {
    const fake = await smallFake();
    const first = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    fake.knobs.expireDeltaTokens();
    const gone = await failure(deltaPull(configFor(fake), depsFor(fake), first));
    expect(gone).toBeInstanceOf(DeltaResyncRequired);
    expect((gone as Error).message).toMatch(/410 syncStateNotFound/);

    fake.knobs.resyncCode = "resyncRequired";
    const made = { usersDeltaLink: `${fake.url}/v1.0/users/delta?$deltatoken=made-up`, groupsDeltaLink: first.groupsDeltaLink };
    expect(await failure(deltaPull(configFor(fake), depsFor(fake), made))).toBeInstanceOf(DeltaResyncRequired);

    const elsewhere = { usersDeltaLink: "https://graph.example.net/v1.0/users/delta?$deltatoken=x", groupsDeltaLink: first.groupsDeltaLink };
    expect(await failure(deltaPull(configFor(fake), depsFor(fake), elsewhere))).toBeInstanceOf(DeltaResyncRequired);

    // a full round after the reset works and hands back fresh links
    const again = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    expect(again.changedUsers).toHaveLength(250);
  });

  it("retries a 429 storm honouring Retry-After, reports throttles, and counts every call", async () => {
    const fake = await smallFake();
    const signals: GraphThrottleSignal[] = [];
    fake.knobs.fault("/v1.0/users/delta", { kind: "status", status: 429, retryAfter: "0", limitPercentage: 1 }, 3);
    fake.knobs.fault("/v1.0/groups/delta", { kind: "status", status: 503 }, 1); // no Retry-After: backoff with jitter
    fake.knobs.fault("/v1.0/groups/delta", { kind: "status", status: 504, retryAfter: "0" }, 1);
    const pull = await deltaPull(configFor(fake), depsFor(fake, { onThrottle: (s) => signals.push(s) }), NO_LINKS);
    expect(pull.changedUsers).toHaveLength(250);
    expect(pull.calls).toBe(3 + 3 + 1 + 2); // 3 user pages + 3 throttled tries, 1 group page + 2 failed tries
    expect(pull.calls).toBe(fake.calls.graph);
    expect(signals).toHaveLength(3);
    expect(signals[0]).toMatchObject({ path: "/v1.0/users/delta", status: 429, retryAfterSeconds: 0, limitPercentage: 1 });
    expect(signals[0]!.scope).toMatch(/^Tenant_Application\/Read\//);
  });

  it("reports x-ms-throttle-limit-percentage on successful answers", async () => {
    const fake = await smallFake();
    fake.knobs.limitPercentage = 0.85;
    const signals: GraphThrottleSignal[] = [];
    await deltaPull(configFor(fake), depsFor(fake, { onThrottle: (s) => signals.push(s) }), NO_LINKS);
    expect(signals).toHaveLength(4);
    expect(signals.every((s) => s.status === 200 && s.limitPercentage === 0.85)).toBe(true);
  });

  it("gives up with SourceUnavailableError once the retries are spent", async () => {
    const fake = await smallFake();
    fake.knobs.fault("/v1.0/users/delta", { kind: "status", status: 429, retryAfter: "0" }, 4);
    const error = await failure(deltaPull(configFor(fake), depsFor(fake), NO_LINKS));
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error).toMatchObject({ status: 429, calls: 4 }); // the first try and maxRetries = 3
    expect(fake.calls.graph).toBe(4);

    fake.knobs.fault("/v1.0/groups/delta", { kind: "status", status: 500 }, 4);
    const server = await failure(deltaPull(configFor(fake), depsFor(fake), NO_LINKS));
    expect(server).toMatchObject({ name: "SourceUnavailableError", status: 500 });
  });

  it("raises IncompletePullError for a page without value and for a page with neither nextLink nor deltaLink", async () => {
    const fake = await smallFake();
    fake.knobs.fault("/v1.0/users/delta", { kind: "missingValue" });
    const missing = await failure(deltaPull(configFor(fake), depsFor(fake), NO_LINKS));
    expect(missing).toBeInstanceOf(IncompletePullError);
    expect((missing as Error).message).toMatch(/no value/);

    const first = await deltaPull(configFor(fake), depsFor(fake), NO_LINKS);
    fake.knobs.fault("/v1.0/groups/delta", { kind: "noLinks" });
    const broken = await failure(deltaPull(configFor(fake), depsFor(fake), first));
    expect(broken).toBeInstanceOf(IncompletePullError);
    expect((broken as Error).message).toMatch(/neither a nextLink nor a deltaLink/);
  });

  it("raises SourceConfigError naming the secret's env var for a bad secret, and a missing one", async () => {
    const fake = await smallFake();
    const bad = await failure(deltaPull(configFor(fake), depsFor(fake, { env: { [SECRET_ENV]: "not-the-secret" } }), NO_LINKS));
    expect(bad).toBeInstanceOf(SourceConfigError);
    expect((bad as SourceConfigError).fix).toContain(SECRET_ENV);
    expect(fake.calls.graph).toBe(0);

    const unset = await failure(deltaPull(configFor(fake), depsFor(fake, { env: {} }), NO_LINKS));
    expect(unset).toBeInstanceOf(SourceConfigError);
    expect((unset as SourceConfigError).fix).toContain(`set the environment variable ${SECRET_ENV}`);
  });

  it("raises SourceConfigError naming the missing application permission on a 403", async () => {
    const fake = await smallFake();
    fake.knobs.permissions = new Set(["User.Read.All"]);
    const groups = await failure(deltaPull(configFor(fake), depsFor(fake), NO_LINKS));
    expect(groups).toMatchObject({ name: "SourceConfigError", status: 403 });
    expect((groups as SourceConfigError).fix).toContain("GroupMember.Read.All");

    fake.knobs.permissions = new Set(["GroupMember.Read.All"]);
    const users = await failure(deltaPull(configFor(fake), depsFor(fake), NO_LINKS));
    expect((users as SourceConfigError).fix).toContain("User.Read.All");
  });

  it("authenticates with a certificate (ClientCertificateCredential) and rejects an unregistered one", async () => {
    const fake = await smallFake();
    const config = configFor(fake, { credentials: { certificateFile: fake.certificateFile } });
    const pull = await deltaPull(config, depsFor(fake), NO_LINKS);
    expect(pull.changedUsers).toHaveLength(250);

    fake.app.certificatePem = null; // the app registration no longer holds the certificate
    const error = await failure(deltaPull(config, depsFor(fake), NO_LINKS));
    expect(error).toBeInstanceOf(SourceConfigError);
    expect((error as SourceConfigError).fix).toContain(fake.certificateFile);
  });

  it("reuses one credential's token across pulls, and maps a rejected access token (401) to SourceConfigError", async () => {
    const fake = await smallFake();
    const config = configFor(fake);
    const credential = makeGraphCredential(config, { [SECRET_ENV]: fake.app.clientSecret }, await trustExtraCa(fake.caPem));
    await deltaPull(config, depsFor(fake, { credential }), NO_LINKS);
    await deltaPull(config, depsFor(fake, { credential }), NO_LINKS);
    expect(fake.calls.total - fake.calls.graph).toBe(2); // one metadata and one token request for both pulls

    fake.knobs.revokeAccessTokens();
    const error = await failure(deltaPull(config, depsFor(fake, { credential }), NO_LINKS));
    expect(error).toMatchObject({ name: "SourceConfigError", status: 401 });
  });
});
