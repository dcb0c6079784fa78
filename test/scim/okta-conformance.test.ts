// Okta's SCIM 2.0 SPEC test (the Runscope file Okta requires for OIN listing), step for step,
// against a real idsync listener on this file's database.
import fs from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runSuite, type RunscopeSuite } from "../conformance/runscope-suite.ts";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";

const SUITE = new URL("../conformance/okta/Okta-SCIM-20-SPEC-Test.json", import.meta.url);

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

test("Okta's SPEC test passes every assertion (52 of 52)", async () => {
  const client = await harness.tenant("okta-spec");
  // step 1 expects a user to exist already
  const seeded = await client.post("/Users", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "seed.user@example.com",
    name: { givenName: "Seed", familyName: "User" }, emails: [{ primary: true, type: "work", value: "seed.user@example.com" }], active: true,
  });
  expect(seeded.status).toBe(201);
  const suite = JSON.parse(fs.readFileSync(SUITE, "utf8")) as RunscopeSuite;
  const result = await runSuite({ suite, baseUrl: harness.scimUrl, auth: `Bearer ${client.token}` });
  expect(result.failures).toEqual([]);
  expect(result.passed).toBe(52);
});
