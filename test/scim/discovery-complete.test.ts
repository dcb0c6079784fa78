// Discovery, complete (RFC 7644 §4), and the catalogue of what an account can assign, as Okta's
// "Build a SCIM 2.0 server with entitlements" guide reads it: /ResourceTypes lists Role and
// Entitlement with Okta's schema URNs, /Schemas serves those schemas, and /Roles and /Entitlements
// list the account's roles and per-domain access, paged and filterable.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const ROLE = "urn:okta:scim:schemas:core:1.0:Role";
const ENTITLEMENT = "urn:okta:scim:schemas:core:1.0:Entitlement";

let harness: ScimHarness;
let client: ScimClient;
beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("catalogue", ["catalogue.example.com", "mail.catalogue.example.com"]);
});
afterAll(() => harness.close());

const filtered = (path: string, filter: string) => client.get(`${path}?filter=${encodeURIComponent(filter)}`);

test("every resource type's meta.location answers with that resource type", async () => {
  const { body } = await client.get("/ResourceTypes");
  expect(body.Resources.map((r: { id: string }) => r.id).sort()).toEqual(["Entitlement", "Group", "Role", "User"]);
  for (const listed of body.Resources) {
    const location = new URL(listed.meta.location);
    expect(location.pathname).toBe(`/scim/v2/ResourceTypes/${listed.id}`);
    const { status, body: one } = await client.get(`/ResourceTypes/${listed.id}`);
    expect(status).toBe(200);
    expect(one).toEqual(listed);
  }
});

test("Role and Entitlement resource types name Okta's schemas and their endpoints", async () => {
  expect((await client.get("/ResourceTypes/Role")).body).toMatchObject({ name: "Role", endpoint: "/Roles", schema: ROLE });
  expect((await client.get("/ResourceTypes/Entitlement")).body).toMatchObject({ name: "Entitlement", endpoint: "/Entitlements", schema: ENTITLEMENT });
});

test("every schema /Schemas lists answers by its id, Role and Entitlement among them", async () => {
  const { body } = await client.get("/Schemas");
  const ids = body.Resources.map((s: { id: string }) => s.id);
  expect(ids).toEqual(expect.arrayContaining([ROLE, ENTITLEMENT, "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"]));
  expect(body.totalResults).toBe(ids.length);
  for (const listed of body.Resources) {
    const { status, body: one } = await client.get(`/Schemas/${listed.id}`);
    expect(status).toBe(200);
    expect(one.id).toBe(listed.id);
  }
  const role = (await client.get(`/Schemas/${ROLE}`)).body;
  expect(role.attributes.map((a: { name: string }) => a.name)).toEqual(["value", "displayName", "description"]);
});

test("unknown resource types and schemas are 404 SCIM errors", async () => {
  for (const path of ["/ResourceTypes/License", "/Schemas/urn:ietf:params:scim:schemas:extension:nobody:2.0:User"]) {
    const { status, body } = await client.get(path);
    expect(status).toBe(404);
    expect(body).toMatchObject({ schemas: [ERROR], status: "404" });
    expect(body.detail).toMatch(/not found/);
  }
});

test("/Roles lists Owner, Admin and Member in Okta's Role form", async () => {
  const { status, body } = await client.get("/Roles");
  expect(status).toBe(200);
  expect(body.totalResults).toBe(3);
  expect(body.Resources.map((r: { id: string; displayName: string }) => [r.id, r.displayName])).toEqual([["owner", "Owner"], ["admin", "Admin"], ["member", "Member"]]);
  expect(body.Resources[1]).toMatchObject({ schemas: [ROLE], value: "admin", meta: { resourceType: "Role" } });
  expect((await client.get(new URL(body.Resources[1].meta.location).pathname.replace("/scim/v2", ""))).body.id).toBe("admin");
});

test("/Entitlements lists read and write on each sending domain, paged", async () => {
  const { body } = await client.get("/Entitlements");
  expect(body.Resources.map((e: { id: string }) => e.id).sort()).toEqual([
    "catalogue.example.com:read", "catalogue.example.com:write", "mail.catalogue.example.com:read", "mail.catalogue.example.com:write",
  ]);
  expect(body.Resources[0]).toMatchObject({ schemas: [ENTITLEMENT], type: "Domain access" });
  expect(body.Resources[0].value).toBe(body.Resources[0].id);
  const page = (await client.get("/Entitlements?startIndex=2&count=2")).body;
  expect(page).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 });
  expect(page.Resources.map((e: { id: string }) => e.id)).toEqual(body.Resources.slice(1, 3).map((e: { id: string }) => e.id));
});

test("/Roles and /Entitlements filter by value, displayName and id, ignoring case", async () => {
  expect((await filtered("/Roles", 'displayName eq "admin"')).body.Resources.map((r: { id: string }) => r.id)).toEqual(["admin"]);
  expect((await filtered("/Roles", 'value eq "OWNER"')).body.totalResults).toBe(1);
  expect((await filtered("/Entitlements", 'value eq "mail.catalogue.example.com:write"')).body.Resources.map((e: { id: string }) => e.id))
    .toEqual(["mail.catalogue.example.com:write"]);
  expect((await filtered("/Entitlements", 'displayName ew ":read"')).body.totalResults).toBe(2);
  const bad = await filtered("/Roles", 'colour eq "red"');
  expect(bad.status).toBe(400);
  expect(bad.body.scimType).toBe("invalidFilter");
  expect((await client.get("/Roles/superuser")).status).toBe(404);
});

test("each account sees its own entitlements only", async () => {
  const other = await harness.tenant("catalogue-other", ["other.example.com"]);
  const { body } = await other.get("/Entitlements");
  expect(body.Resources.map((e: { id: string }) => e.id)).toEqual(["other.example.com:read", "other.example.com:write"]);
});
