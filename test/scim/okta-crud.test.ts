// Okta's SCIM 2.0 CRUD test (the Runscope file, unedited): its Okta-org steps go to a local Okta org
// that provisions into a real idsync listener with the requests Okta sends; its SCIM steps check idsync.
import fs from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runSuite, type RunscopeSuite } from "../conformance/runscope-suite.ts";
import { startOktaOrgFake, type OktaOrgFake } from "../fakes/okta/okta-org-fake.ts";
import { startScimHarness, type ScimHarness } from "../support/scim-harness.ts";

const SUITE = new URL("../conformance/okta/Okta-SCIM-20-CRUD-Test.json", import.meta.url);

let harness: ScimHarness;
let org: OktaOrgFake;
let token: string;
beforeAll(async () => {
  harness = await startScimHarness();
  token = (await harness.tenant("okta-crud")).token;
  org = await startOktaOrgFake({ scimUrl: harness.scimUrl, scimAuthorization: `Bearer ${token}` });
});
afterAll(async () => {
  await org?.close();
  await harness?.close();
});

test("Okta's CRUD test passes every assertion (21 of 21), with the SCIM requests Okta sends", async () => {
  const suite = JSON.parse(fs.readFileSync(SUITE, "utf8")) as RunscopeSuite;
  const email = `crud.${Date.now()}@okta-crud.example.com`;
  // the Runscope environment an Okta partner fills in before running the test
  const variables = {
    oktaOrgUrl: org.url, oktaAppId: org.appId, oktaToken: org.apiToken,
    SCIMUrl: harness.scimUrl, SCIMAuth: `Bearer ${token}`,
    okta_user_firstname: "Runscope", okta_user_firstname_update: "Runscoped", okta_user_lastname: "Crudtest",
    okta_user_email: email, okta_user_title: "Engineer", okta_user_primaryphone: "+1 415 555 0100",
  };
  const lines: string[] = [];
  const result = await runSuite({ suite, baseUrl: harness.scimUrl, auth: `Bearer ${token}`, variables, log: (l) => lines.push(l) });
  expect(result.failures, lines.join("\n")).toEqual([]);
  expect(result.passed).toBe(21);
  expect(result.steps).toHaveLength(13);
  expect(org.errors).toEqual([]);

  // assign → look up, create; profile update → read, replace; deactivate, reactivate, unassign → PATCH active
  const calls = org.scimCalls.map((c) => `${c.method} ${c.path.replace(/[0-9a-f-]{36}/, "{id}")} ${c.status}`);
  expect(calls).toEqual([
    `GET /Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100 200`,
    "POST /Users 201",
    "GET /Users/{id} 200",
    "PUT /Users/{id} 200",
    "PATCH /Users/{id} 200",
    "PATCH /Users/{id} 200",
    "PATCH /Users/{id} 200",
  ]);
  expect(org.scimCalls.slice(4).map((c) => c.body)).toEqual([false, true, false].map((active) => ({
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active } }],
  })));
  // one SCIM id throughout: reactivation reuses the account, never a second POST
  expect(new Set(org.scimCalls.slice(2).map((c) => c.path))).toHaveProperty("size", 1);
});

test("the Okta org answers its own API's errors: a wrong API token is a 401, an unknown app a 404", async () => {
  const wrongToken = await fetch(`${org.url}/api/v1/apps/${org.appId}`, { headers: { authorization: "SSWS nope" } });
  expect(wrongToken.status).toBe(401);
  expect(await wrongToken.json()).toMatchObject({ errorCode: "E0000011" });
  const unknownApp = await fetch(`${org.url}/api/v1/apps/0oaunknown`, { headers: { authorization: `SSWS ${org.apiToken}` } });
  expect(unknownApp.status).toBe(404);
  expect(await unknownApp.json()).toMatchObject({ errorCode: "E0000007" });
});
