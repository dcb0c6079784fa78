// Microsoft Entra ID's provisioning calls for Groups replayed over HTTP in the shapes Entra sends
// (Microsoft's "Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID"): create with the ADSCIM schema and no members, matching with
// excludedAttributes=members, membership by PATCH (204, no body), renames, atomic failures, delete.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { URN } from "../../src/sources/scim/schemas.ts";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";

const CORE_USER = URN.user;
const CORE_GROUP = URN.group;
const ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
const PATCH_OP = URN.patchOp;
const LIST_RESPONSE = URN.listResponse;
const ERROR = URN.error;

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const filter = (expression: string) => `filter=${encodeURIComponent(expression)}`;

async function createUsers(client: ScimClient, ...names: string[]): Promise<string[]> {
  const created = await Promise.all(names.map((name) => client.post("/Users", {
    schemas: [CORE_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    externalId: randomUUID(), userName: `${name}@testuser.com`, active: true,
    emails: [{ primary: true, type: "work", value: `${name}@testuser.com` }],
    meta: { resourceType: "User" }, name: { formatted: name, familyName: name, givenName: name }, roles: [],
  })));
  for (const c of created) expect(c.status).toBe(201);
  return created.map((c) => c.body.id as string);
}

/** Entra's "Create Group" body: the ADSCIM schema URI, externalId, meta, and no members. */
async function createGroup(client: ScimClient, displayName: string, externalId = randomUUID()): Promise<ScimResponse> {
  return client.post("/Groups", { schemas: [CORE_GROUP, ADSCIM_GROUP], externalId, displayName, meta: { resourceType: "Group" } });
}

async function memberIds(client: ScimClient, groupId: string): Promise<string[]> {
  const read = await client.get(`/Groups/${groupId}`);
  expect(read.status).toBe(200);
  return ((read.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

/** Entra's advice for PATCH /Groups: 204 and no body. */
function expectNoContent(response: ScimResponse): void {
  expect(response.status).toBe(204);
  expect(response.body).toBeUndefined();
}

const refs = (...ids: string[]) => ids.map((value) => ({ $ref: null, value }));
const sorted = (...ids: string[]) => [...ids].sort();

test("Entra creates a group with the ADSCIM schema and no members (201); its excludedAttributes=members queries carry no members", async () => {
  const client = await harness.tenant("entra-group-create");
  const [alice] = await createUsers(client, "alice");
  const externalId = randomUUID();
  const created = await createGroup(client, "Engineering", externalId);
  expect(created.status).toBe(201);
  expect(created.headers.get("content-type")).toMatch(/^application\/scim\+json/);
  expect(created.headers.get("location")).toBe(created.body.meta.location);
  expect(created.body).toMatchObject({ displayName: "Engineering", externalId, meta: { resourceType: "Group" } });
  expect(created.body.schemas).toContain(CORE_GROUP);
  expect(created.body.members ?? []).toEqual([]);
  const groupId: string = created.body.id;
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!) })));

  const empty = await client.get(`/Groups?excludedAttributes=members&${filter(`displayName eq "${randomUUID()}"`)}`);
  expect(empty.status).toBe(200);
  expect(empty.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 0, Resources: [] });

  for (const path of [
    `/Groups?excludedAttributes=members&${filter('displayName eq "Engineering"')}`,
    `/Groups?excludedAttributes=members&filter=displayName+eq+%22Engineering%22`,
  ]) {
    const found = await client.get(path);
    expect(found.status, path).toBe(200);
    expect(found.body.totalResults, path).toBe(1);
    expect(found.body.Resources[0]).toMatchObject({ id: groupId, displayName: "Engineering" });
    expect(found.body.Resources[0]).not.toHaveProperty("members");
  }

  const byId = await client.get(`/Groups/${groupId}?excludedAttributes=members`);
  expect(byId.status).toBe(200);
  expect(byId.body).toMatchObject({ id: groupId, displayName: "Engineering", externalId });
  expect(byId.body).not.toHaveProperty("members");
  // without the exclusion the member is there
  expect(await memberIds(client, groupId)).toEqual([alice]);
});

test("Entra adds several members as [{$ref:null, value}] in one operation (204); re-adding a present member does not duplicate it", async () => {
  const client = await harness.tenant("entra-group-add");
  const [alice, bob, carol] = await createUsers(client, "alice", "bob", "carol");
  const groupId: string = (await createGroup(client, "Sales")).body.id;

  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!, bob!) })));
  expect(await memberIds(client, groupId)).toEqual(sorted(alice!, bob!));

  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(bob!, carol!) })));
  expect(await memberIds(client, groupId)).toEqual(sorted(alice!, bob!, carol!));

  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp(
    { op: "Add", path: "members", value: refs(alice!) },
    { op: "Add", path: "members", value: refs(alice!) },
  )));
  expect(await memberIds(client, groupId)).toEqual(sorted(alice!, bob!, carol!));
});

test("Entra removes members with a value list and with members[value eq \"…\"]: 204 each, and exactly those members go", async () => {
  const client = await harness.tenant("entra-group-remove");
  const [alice, bob, carol, dave] = await createUsers(client, "alice", "bob", "carol", "dave");
  const groupId: string = (await createGroup(client, "Support")).body.id;
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!, bob!, carol!, dave!) })));

  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Remove", path: "members", value: refs(alice!, bob!) })));
  expect(await memberIds(client, groupId)).toEqual(sorted(carol!, dave!));

  // SCIM-compliant mode
  expectNoContent(await client.patch(`/Groups/${groupId}?aadOptscim062020`, patchOp({ op: "remove", path: `members[value eq "${carol}"]` })));
  expect(await memberIds(client, groupId)).toEqual([dave]);

  // removing a user who is not a member changes nothing
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Remove", path: "members", value: refs(alice!) })));
  expect(await memberIds(client, groupId)).toEqual([dave]);
});

test("Entra renames a group and adds its externalId: 204 each, visible on GET and by displayName filter", async () => {
  const client = await harness.tenant("entra-group-rename");
  const created = await client.post("/Groups", { schemas: [CORE_GROUP, ADSCIM_GROUP], displayName: "Old name", meta: { resourceType: "Group" } });
  expect(created.status).toBe(201);
  const groupId: string = created.body.id;

  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Replace", path: "displayName", value: "New name" })));
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "externalId", value: "c7c4bc5d-7e39-4f8e-9c44-2b6f0e2ad0a1" })));

  const read = await client.get(`/Groups/${groupId}?excludedAttributes=members`);
  expect(read.body).toMatchObject({ id: groupId, displayName: "New name", externalId: "c7c4bc5d-7e39-4f8e-9c44-2b6f0e2ad0a1" });
  const byName = await client.get(`/Groups?excludedAttributes=members&${filter('displayName eq "New name"')}`);
  expect(byName.body.totalResults).toBe(1);
  expect(byName.body.Resources[0].id).toBe(groupId);
  expect((await client.get(`/Groups?${filter('displayName eq "Old name"')}`)).body.totalResults).toBe(0);
});

test("Entra adding an unknown member id gets 400 invalidValue and the whole group PATCH is undone", async () => {
  const client = await harness.tenant("entra-group-atomic");
  const [alice, bob] = await createUsers(client, "alice", "bob");
  const groupId: string = (await createGroup(client, "Atomic")).body.id;
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!) })));

  const rejected = await client.patch(`/Groups/${groupId}`, patchOp(
    { op: "Replace", path: "displayName", value: "Should not stick" },
    { op: "Remove", path: "members", value: refs(alice!) },
    { op: "Add", path: "members", value: refs(bob!, randomUUID()) },
  ));
  expect(rejected.status).toBe(400);
  expect(rejected.headers.get("content-type")).toMatch(/^application\/scim\+json/);
  expect(rejected.body).toMatchObject({ schemas: [ERROR], status: "400", scimType: "invalidValue" });
  expect(rejected.body.detail).toEqual(expect.any(String));

  const read = await client.get(`/Groups/${groupId}`);
  expect(read.body.displayName).toBe("Atomic");
  expect(((read.body.members ?? []) as { value: string }[]).map((m) => m.value)).toEqual([alice]);
});

test("An Entra-validator PATCH /Groups with an empty Operations list is rejected with 400 and changes nothing", async () => {
  const client = await harness.tenant("entra-group-empty-ops");
  const [alice] = await createUsers(client, "alice");
  const groupId: string = (await createGroup(client, "Empty ops")).body.id;
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!) })));
  const response = await client.patch(`/Groups/${groupId}`, patchOp());
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ schemas: [ERROR], status: "400" });
  expect(await memberIds(client, groupId)).toEqual([alice]);
});

test("Entra hard-deletes a member (it leaves the group) and then the group: DELETE /Groups/{id} 204, then 404", async () => {
  const client = await harness.tenant("entra-group-lifecycle");
  const [alice, bob] = await createUsers(client, "alice", "bob");
  const groupId: string = (await createGroup(client, "Lifecycle")).body.id;
  expectNoContent(await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!, bob!) })));

  expect((await client.delete(`/Users/${alice}`)).status).toBe(204);
  expect((await client.get(`/Users/${alice}`)).status).toBe(404);
  expect(await memberIds(client, groupId)).toEqual([bob]);
  // a deleted user cannot be added back by id
  const readd = await client.patch(`/Groups/${groupId}`, patchOp({ op: "Add", path: "members", value: refs(alice!) }));
  expect(readd.status).toBe(400);
  expect(await memberIds(client, groupId)).toEqual([bob]);

  const deleted = await client.delete(`/Groups/${groupId}`);
  expect(deleted.status).toBe(204);
  const gone = await client.get(`/Groups/${groupId}`);
  expect(gone.status).toBe(404);
  expect(gone.body).toMatchObject({ schemas: [ERROR], status: "404" });
  expect((await client.get(`/Groups?${filter('displayName eq "Lifecycle"')}`)).body.totalResults).toBe(0);
  expect((await client.get(`/Users/${bob}`)).status).toBe(200);
});
