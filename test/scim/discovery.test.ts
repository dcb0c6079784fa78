// Discovery (RFC 7644 §4): what Entra reads when a provisioning configuration is saved.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";

let harness: ScimHarness;
let client: ScimClient;
beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("discovery");
});
afterAll(() => harness.close());

test("ServiceProviderConfig announces PATCH, filter and sort, bearer tokens, and no bulk", async () => {
  const { status, body } = await client.get("/ServiceProviderConfig");
  expect(status).toBe(200);
  expect(body).toMatchObject({
    patch: { supported: true }, filter: { supported: true, maxResults: 1000 }, sort: { supported: true },
    bulk: { supported: false }, etag: { supported: false }, changePassword: { supported: false },
    authenticationSchemes: [expect.objectContaining({ type: "oauthbearertoken" })],
  });
});

test("ResourceTypes lists Users with both extensions, Groups, and the assignable Roles and Entitlements", async () => {
  const { body } = await client.get("/ResourceTypes");
  const user = body.Resources.find((r: { id: string }) => r.id === "User");
  expect(user.schemaExtensions.map((e: { schema: string }) => e.schema)).toEqual([
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:idsync:2.0:User",
  ]);
  expect(body.Resources.map((r: { endpoint: string }) => r.endpoint).sort()).toEqual(["/Entitlements", "/Groups", "/Roles", "/Users"]);
});

test("Schemas serves the idsync extension with its role and domain grants", async () => {
  const { status, body } = await client.get("/Schemas/urn:ietf:params:scim:schemas:extension:idsync:2.0:User");
  expect(status).toBe(200);
  const role = body.attributes.find((a: { name: string }) => a.name === "role");
  expect(role.canonicalValues).toEqual(["owner", "admin", "member"]);
  const grants = body.attributes.find((a: { name: string }) => a.name === "domainGrants");
  expect(grants.subAttributes.map((a: { name: string }) => a.name)).toEqual(["domain", "access"]);
  // core User and Group, two User extensions, Okta's Role and Entitlement
  expect((await client.get("/Schemas")).body.totalResults).toBe(6);
});

test("Bulk and /Me answer 501 in SCIM's error form", async () => {
  for (const response of [await client.post("/Bulk", { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations: [] }), await client.get("/Me")]) {
    expect(response.status).toBe(501);
    expect(response.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  }
});

test("POST /Users/.search filters in SQL like GET does", async () => {
  await client.post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "searchable@x.example" });
  const { status, body } = await client.post("/Users/.search", {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName sw "SEARCH"', startIndex: 1, count: 10,
  });
  expect(status).toBe(200);
  expect(body.totalResults).toBe(1);
  expect(body.Resources[0].userName).toBe("searchable@x.example");
});
