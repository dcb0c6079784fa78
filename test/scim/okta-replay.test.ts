// Okta's provisioning calls replayed over HTTP, in the shapes and order Okta sends them
// (Okta's SCIM 2.0 reference (developer.okta.com/docs/reference/scim/scim-20)): existence checks, assign, profile updates by PUT and PATCH,
// deactivate/reactivate/password by path-less PATCH, AIW apps by PUT, import paging and Group Push.
import { afterAll, beforeAll, expect, test } from "vitest";
import { URN } from "../../src/sources/scim/schemas.ts";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";

const CORE_USER = URN.user;
const CORE_GROUP = URN.group;
const PATCH_OP = URN.patchOp;
const LIST_RESPONSE = URN.listResponse;

// what Okta's SCIM client puts on every request (okta/okta-blog-archive#1956)
const OKTA_HEADERS = {
  "user-agent": "Okta SCIM Client 1.0.0",
  accept: "application/scim+json",
  "accept-charset": "utf-8",
  "content-type": "application/scim+json; charset=utf-8",
};

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const okta = (client: ScimClient) => ({
  get: (path: string) => client.request("GET", path, undefined, OKTA_HEADERS),
  post: (path: string, body: unknown) => client.request("POST", path, body, OKTA_HEADERS),
  put: (path: string, body: unknown) => client.request("PUT", path, body, OKTA_HEADERS),
  patch: (path: string, ...Operations: unknown[]) => client.request("PATCH", path, { schemas: [PATCH_OP], Operations }, OKTA_HEADERS),
  delete: (path: string) => client.request("DELETE", path, undefined, OKTA_HEADERS),
});

type OktaClient = ReturnType<typeof okta>;

/** Okta's "Create the User" body: a placeholder password, read-only groups, locale, the Okta user id. */
const oktaUser = (userName: string, externalId = "00ujl29u0le5T6Aj10h7") => ({
  schemas: [CORE_USER],
  userName,
  name: { givenName: "Test", familyName: "User" },
  emails: [{ primary: true, value: userName, type: "work" }],
  displayName: "Test User",
  locale: "en-US",
  externalId,
  groups: [],
  password: "1mz050nq",
  active: true,
});

const userFilter = (userName: string) => `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`;

function expectScimJson(response: ScimResponse): void {
  expect(response.headers.get("content-type")).toMatch(/^application\/scim\+json/);
}

function expectNoPassword(response: ScimResponse, password?: string): void {
  const text = JSON.stringify(response.body ?? null);
  expect(text).not.toMatch(/"password"/i);
  if (password) expect(text).not.toContain(password);
}

async function assign(client: OktaClient, userName: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const created = await client.post("/Users", oktaUser(userName));
  expect(created.status).toBe(201);
  return created.body;
}

test("Okta's Test Connection and existence checks for an unknown user and an unknown group get 200 with an empty ListResponse", async () => {
  const client = okta(await harness.tenant("okta-test-connection"));
  const users = await client.get("/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100");
  expect(users.status).toBe(200);
  expectScimJson(users);
  expect(users.body.schemas).toEqual([LIST_RESPONSE]);
  expect(users.body.totalResults).toBe(0);
  expect(users.body.Resources).toEqual([]);

  const groups = await client.get("/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100");
  expect(groups.status).toBe(200);
  expectScimJson(groups);
  expect(groups.body.schemas).toEqual([LIST_RESPONSE]);
  expect(groups.body.totalResults).toBe(0);
  expect(groups.body.Resources).toEqual([]);
});

test("Okta assigns a user with its create body (password, groups: [], locale): 201 with Location, no password back, and the user is found by userName in any case", async () => {
  const client = okta(await harness.tenant("okta-assign"));
  const created = await client.post("/Users", oktaUser("test.user@okta.local"));
  expect(created.status).toBe(201);
  expectScimJson(created);
  expect(created.body.id).toEqual(expect.any(String));
  expect(created.body.schemas).toContain(CORE_USER);
  expect(created.body.meta.resourceType).toBe("User");
  expect(created.headers.get("location")).toBe(created.body.meta.location);
  expect(created.body.meta.location).toBe(`${harness.scimUrl}/Users/${created.body.id}`);
  expect(created.body).toMatchObject({
    userName: "test.user@okta.local", externalId: "00ujl29u0le5T6Aj10h7", displayName: "Test User", locale: "en-US", active: true,
    name: { givenName: "Test", familyName: "User" },
  });
  expectNoPassword(created, "1mz050nq");

  const read = await client.get(`/Users/${created.body.id}`);
  expect(read.status).toBe(200);
  expectNoPassword(read, "1mz050nq");

  for (const spelling of ["test.user@okta.local", "TEST.USER@OKTA.LOCAL", "Test.User@Okta.Local"]) {
    const found = await client.get(userFilter(spelling));
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    expectNoPassword(found, "1mz050nq");
  }
});

test("Okta updates a profile by PUT of the full body it read (id, meta, groups: []): 200 and the change is visible on GET", async () => {
  const client = okta(await harness.tenant("okta-put-profile"));
  const user = await assign(client, "put.profile@okta.local");
  const { body: current } = await client.get(`/Users/${user.id}`);
  const updated = await client.put(`/Users/${user.id}`, {
    ...current,
    name: { givenName: "Changed", middleName: "M", familyName: "Person" },
    emails: [{ primary: true, value: "put.profile@okta.local", type: "work", display: "put.profile@okta.local" }],
    groups: [],
  });
  expect(updated.status).toBe(200);
  expectScimJson(updated);
  expect(updated.body.id).toBe(user.id);
  expect(updated.body.name).toEqual({ givenName: "Changed", middleName: "M", familyName: "Person" });

  const read = await client.get(`/Users/${user.id}`);
  expect(read.body.name).toEqual({ givenName: "Changed", middleName: "M", familyName: "Person" });
  expect(read.body.userName).toBe("put.profile@okta.local");
  expect(read.body.active).toBe(true);
});

test("Okta updates a profile by PATCH and only the attributes it sent change", async () => {
  const client = okta(await harness.tenant("okta-patch-profile"));
  const user = await assign(client, "patch.profile@okta.local");
  const pathless = await client.patch(`/Users/${user.id}`, { op: "replace", value: { name: { givenName: "Patched" }, displayName: "Patched User" } });
  expect(pathless.status).toBe(200);
  expect(pathless.body.name).toEqual({ givenName: "Patched", familyName: "User" });
  expect(pathless.body.displayName).toBe("Patched User");

  const withPath = await client.patch(`/Users/${user.id}`, { op: "replace", path: "name.familyName", value: "Pathed" });
  expect(withPath.status).toBe(200);
  const read = await client.get(`/Users/${user.id}`);
  expect(read.body.name).toEqual({ givenName: "Patched", familyName: "Pathed" });
  expect(read.body.displayName).toBe("Patched User");
  expect(read.body.userName).toBe("patch.profile@okta.local");
});

test("Okta deactivates a user by path-less PATCH and the user stays readable by id and by userName; reactivation keeps the same id", async () => {
  const client = okta(await harness.tenant("okta-deactivate"));
  const user = await assign(client, "leaver@okta.local");

  const deactivated = await client.patch(`/Users/${user.id}`, { op: "replace", value: { active: false } });
  expect(deactivated.status).toBe(200);
  expectScimJson(deactivated);
  expect(deactivated.body).toMatchObject({ id: user.id, userName: "leaver@okta.local", active: false });

  const read = await client.get(`/Users/${user.id}`);
  expect(read.status).toBe(200);
  expect(read.body.active).toBe(false);
  const found = await client.get(userFilter("leaver@okta.local"));
  expect(found.status).toBe(200);
  expect(found.body.totalResults).toBe(1);
  expect(found.body.Resources[0]).toMatchObject({ id: user.id, active: false });

  const reactivated = await client.patch(`/Users/${user.id}`, { op: "replace", value: { active: true } });
  expect(reactivated.status).toBe(200);
  expect(reactivated.body).toMatchObject({ id: user.id, active: true });
  const again = await client.get(userFilter("leaver@okta.local"));
  expect(again.body.totalResults).toBe(1);
  expect(again.body.Resources[0]).toMatchObject({ id: user.id, active: true });
});

test("Okta pushes a password by path-less PATCH: 200, and no response ever carries the password", async () => {
  const client = okta(await harness.tenant("okta-password"));
  const user = await assign(client, "pw.user@okta.local");
  const changed = await client.patch(`/Users/${user.id}`, { op: "replace", value: { password: "N3w-s3cret!pw" } });
  expect(changed.status).toBe(200);
  expect(changed.body.id).toBe(user.id);
  expectNoPassword(changed, "N3w-s3cret!pw");
  expectNoPassword(await client.get(`/Users/${user.id}`), "N3w-s3cret!pw");
  expectNoPassword(await client.get(userFilter("pw.user@okta.local")), "N3w-s3cret!pw");
  expectNoPassword(await client.get("/Users?startIndex=1&count=100"), "N3w-s3cret!pw");
});

test("An Okta AIW app deactivates a user by PUT with active:false and the user stays readable and findable by userName", async () => {
  const client = okta(await harness.tenant("okta-aiw-deactivate"));
  const user = await assign(client, "aiw.user@okta.local");
  const { body: current } = await client.get(`/Users/${user.id}`);
  const put = await client.put(`/Users/${user.id}`, { ...current, groups: [], password: "1mz050nq", active: false });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ id: user.id, active: false, userName: "aiw.user@okta.local" });
  expectNoPassword(put, "1mz050nq");

  expect((await client.get(`/Users/${user.id}`)).body.active).toBe(false);
  const found = await client.get(userFilter("aiw.user@okta.local"));
  expect(found.body.totalResults).toBe(1);
  expect(found.body.Resources[0]).toMatchObject({ id: user.id, active: false });

  const reactivated = await client.put(`/Users/${user.id}`, { ...current, groups: [], active: true });
  expect(reactivated.status).toBe(200);
  expect(reactivated.body).toMatchObject({ id: user.id, active: true });
});

test("Okta imports 250 users in pages of 100, 100 and 50 with numeric paging fields and no user repeated or missing", async () => {
  const client = okta(await harness.tenant("okta-import"));
  const created = new Set<string>();
  for (let batch = 0; batch < 250; batch += 25) {
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => client.post("/Users", oktaUser(`import${batch + i}@okta.local`, `00u${batch + i}`))));
    for (const r of responses) {
      expect(r.status).toBe(201);
      created.add(r.body.id);
    }
  }
  expect(created.size).toBe(250);

  const seen: string[] = [];
  for (const [startIndex, expected] of [[1, 100], [101, 100], [201, 50]] as const) {
    const page = await client.get(`/Users?startIndex=${startIndex}&count=100`);
    expect(page.status).toBe(200);
    expect(page.body.schemas).toEqual([LIST_RESPONSE]);
    expect(page.body.totalResults).toBe(250);
    expect(page.body.startIndex).toBe(startIndex);
    expect(page.body.itemsPerPage).toBe(expected);
    expect(page.body.Resources).toHaveLength(expected);
    seen.push(...page.body.Resources.map((r: { id: string }) => r.id));
  }
  expect(seen).toHaveLength(250);
  expect(new Set(seen)).toEqual(created);

  const beyond = await client.get("/Users?startIndex=301&count=100");
  expect(beyond.status).toBe(200);
  expect(beyond.body.totalResults).toBe(250);
  expect(beyond.body.Resources ?? []).toEqual([]);
});

async function groupMemberIds(client: OktaClient, groupId: string): Promise<string[]> {
  const read = await client.get(`/Groups/${groupId}`);
  expect(read.status).toBe(200);
  return ((read.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

test("Okta Group Push creates a group, renames it with the read-only id, swaps members in one PATCH, replaces members, then deletes it", async () => {
  const client = okta(await harness.tenant("okta-group-push"));
  const [alice, bob, carol] = await Promise.all([assign(client, "alice@okta.local"), assign(client, "bob@okta.local"), assign(client, "carol@okta.local")]);

  const created = await client.post("/Groups", { schemas: [CORE_GROUP], displayName: "Test SCIMv2", members: [] });
  expect(created.status).toBe(201);
  expectScimJson(created);
  expect(created.headers.get("location")).toBe(created.body.meta.location);
  expect(created.body.displayName).toBe("Test SCIMv2");
  const groupId: string = created.body.id;
  expect(await groupMemberIds(client, groupId)).toEqual([]);
  const found = await client.get("/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100");
  expect(found.body.totalResults).toBe(1);
  expect(found.body.Resources[0].id).toBe(groupId);

  const renamed = await client.patch(`/Groups/${groupId}`, { op: "replace", value: { id: groupId, displayName: "Test SCIMv2 renamed" } });
  expect(renamed.status).toBe(204);
  expect((await client.get(`/Groups/${groupId}`)).body.displayName).toBe("Test SCIMv2 renamed");

  const seeded = await client.patch(`/Groups/${groupId}`, { op: "add", path: "members", value: [{ value: alice.id, display: "alice@okta.local" }] });
  expect(seeded.status).toBe(204);
  expect(await groupMemberIds(client, groupId)).toEqual([alice.id]);

  // Okta's membership update: remove one, add another, in one request
  const swapped = await client.patch(`/Groups/${groupId}`,
    { op: "remove", path: `members[value eq "${alice.id}"]` },
    { op: "add", path: "members", value: [{ value: bob.id, display: "bob@okta.local" }] },
  );
  expect(swapped.status).toBe(204);
  expect(swapped.body).toBeUndefined();
  expect(await groupMemberIds(client, groupId)).toEqual([bob.id]);

  // the same, with the rename re-sent first as Okta does on every membership update
  const resent = await client.patch(`/Groups/${groupId}`,
    { op: "replace", value: { id: groupId, displayName: "Test SCIMv2 renamed" } },
    { op: "remove", path: `members[value eq "${bob.id}"]` },
    { op: "add", path: "members", value: [{ value: carol.id, display: "carol@okta.local" }] },
  );
  expect(resent.status).toBe(204);
  expect(await groupMemberIds(client, groupId)).toEqual([carol.id]);
  expect((await client.get(`/Groups/${groupId}`)).body.displayName).toBe("Test SCIMv2 renamed");

  const replaced = await client.patch(`/Groups/${groupId}`, {
    op: "replace", path: "members", value: [{ value: alice.id, display: "alice@okta.local" }, { value: carol.id, display: "carol@okta.local" }],
  });
  expect(replaced.status).toBe(204);
  expect(await groupMemberIds(client, groupId)).toEqual([alice.id, carol.id].sort());

  const deleted = await client.delete(`/Groups/${groupId}`);
  expect(deleted.status).toBe(204);
  const gone = await client.get(`/Groups/${groupId}`);
  expect(gone.status).toBe(404);
  expect(gone.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  expect(gone.body.status).toBe("404");
  // the users themselves are untouched
  expect((await client.get(`/Users/${alice.id}`)).status).toBe(200);
});

test("An Okta AIW app pushes a group by PUT /Groups/{id} with the full member list and gets exactly those members", async () => {
  const client = okta(await harness.tenant("okta-aiw-groups"));
  const [alice, bob, carol] = await Promise.all([assign(client, "alice@aiw.okta.local"), assign(client, "bob@aiw.okta.local"), assign(client, "carol@aiw.okta.local")]);
  const created = await client.post("/Groups", { schemas: [CORE_GROUP], displayName: "AIW team", members: [{ value: alice.id, display: "alice@aiw.okta.local" }] });
  expect(created.status).toBe(201);
  const groupId: string = created.body.id;
  expect(await groupMemberIds(client, groupId)).toEqual([alice.id]);

  const put = await client.put(`/Groups/${groupId}`, {
    schemas: [CORE_GROUP], id: groupId, displayName: "AIW team",
    members: [{ value: bob.id, display: "bob@aiw.okta.local" }, { value: carol.id, display: "carol@aiw.okta.local" }],
  });
  expect(put.status).toBe(200);
  expectScimJson(put);
  expect(put.body.id).toBe(groupId);
  expect(((put.body.members ?? []) as { value: string }[]).map((m) => m.value).sort()).toEqual([bob.id, carol.id].sort());
  expect(await groupMemberIds(client, groupId)).toEqual([bob.id, carol.id].sort());

  const emptied = await client.put(`/Groups/${groupId}`, { schemas: [CORE_GROUP], id: groupId, displayName: "AIW team", members: [] });
  expect(emptied.status).toBe(200);
  expect(await groupMemberIds(client, groupId)).toEqual([]);

  expect((await client.delete(`/Groups/${groupId}`)).status).toBe(204);
  expect((await client.get(`/Groups/${groupId}`)).status).toBe(404);
});
