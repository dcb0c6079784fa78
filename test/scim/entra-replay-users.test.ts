// Microsoft Entra ID's provisioning calls for Users replayed over HTTP in the shapes Entra sends
// (Microsoft's "Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID"): Test Connection, matching queries, creates with the doc's
// examples, default-mode PATCHes (capitalised ops, string booleans), SCIM-compliant mode
// (?aadOptscim062020), disable/enable, and hard delete.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { URN } from "../../src/sources/scim/schemas.ts";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";

const CORE_USER = URN.user;
const ENTERPRISE = URN.enterprise;
const PATCH_OP = URN.patchOp;
const LIST_RESPONSE = URN.listResponse;
const ERROR = URN.error;
const COMPLIANT = "?aadOptscim062020";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const patchOp = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const filter = (expression: string) => `filter=${encodeURIComponent(expression)}`;

/** Entra's "Create User" body (Entra doc, Example 1 shape). */
const entraUser = (userName: string, externalId = randomUUID()) => ({
  schemas: [CORE_USER, ENTERPRISE],
  externalId,
  userName,
  active: true,
  emails: [{ primary: true, type: "work", value: userName }],
  meta: { resourceType: "User" },
  name: { formatted: "Joy Young", familyName: "Young", givenName: "Joy" },
  roles: [],
});

/** The Entra doc's Example 2: explicit nulls and a mistyped enterprise URN. */
const example2 = {
  schemas: [CORE_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
  externalId: "jyoung",
  userName: "jyoung@testuser.com",
  active: true,
  addresses: null,
  displayName: "Joy Young",
  emails: [{ type: "work", value: "jyoung@testuser.com", primary: true }],
  meta: { resourceType: "User" },
  name: { familyName: "Young", givenName: "Joy" },
  phoneNumbers: null,
  title: null,
  manager: null,
};

async function create(client: ScimClient, userName: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const created = await client.post("/Users", entraUser(userName));
  expect(created.status).toBe(201);
  return created.body;
}

/** A PATCH /Users answer as Entra's doc shows it: 200 with the full resource. */
function expectFullResource(response: ScimResponse, id: string): void {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/scim\+json/);
  expect(response.body.schemas).toContain(CORE_USER);
  expect(response.body.id).toBe(id);
  expect(response.body.userName).toEqual(expect.any(String));
  expect(response.body.meta).toMatchObject({ resourceType: "User", location: `${harness.scimUrl}/Users/${id}` });
}

const emailsOfType = (user: { emails?: { type?: string; value?: string }[] }, type: string) => (user.emails ?? []).filter((e) => e.type === type);

test("Entra's Test Connection (a random-GUID userName, '+' for spaces, an unquoted externalId) gets 200 with an empty ListResponse", async () => {
  const client = await harness.tenant("entra-test-connection");
  for (const path of [
    `/Users?${filter(`userName eq "${randomUUID()}"`)}`,
    `/Users?filter=userName+eq+%22a%40b.c%22`,
    `/Users?filter=userName+eq+"a%40b.c"`,
    `/Users?${filter("externalId eq jyoung")}`,
  ]) {
    const response = await client.get(path);
    expect(response.status, path).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    expect(response.body.schemas).toEqual([LIST_RESPONSE]);
    expect(response.body.totalResults).toBe(0);
    expect(response.body.Resources).toEqual([]);
  }
});

test("Entra creates a user with its body (both schemas, externalId, roles: [], meta): 201, and its matching queries then find the user", async () => {
  const client = await harness.tenant("entra-create");
  const externalId = randomUUID();
  const created = await client.post("/Users", entraUser("Test_User_ab6490ee@testuser.com", externalId));
  expect(created.status).toBe(201);
  expect(created.headers.get("location")).toBe(created.body.meta.location);
  expect(created.body.schemas).toContain(CORE_USER);
  expect(created.body).toMatchObject({ userName: "Test_User_ab6490ee@testuser.com", externalId, active: true, name: { familyName: "Young", givenName: "Joy" } });
  const id: string = created.body.id;

  for (const path of [
    `/Users?${filter('userName eq "test_user_AB6490EE@testuser.com"')}`,
    `/Users?filter=userName+eq+%22Test_User_ab6490ee%40testuser.com%22`,
    `/Users?${filter(`externalId eq "${externalId}"`)}`,
    `/Users?${filter(`externalId eq ${externalId}`)}`,
    `/Users?${filter('emails[type eq "work"].value eq "Test_User_ab6490ee@testuser.com"')}`,
  ]) {
    const found = await client.get(path);
    expect(found.status, path).toBe(200);
    expect(found.body.totalResults, path).toBe(1);
    expect(found.body.Resources[0].id, path).toBe(id);
  }
});

test("Entra creates a user with the doc's Example 2 (explicit nulls, mistyped enterprise URN): 201, found by 'externalId eq jyoung'", async () => {
  const client = await harness.tenant("entra-example-two");
  const created = await client.post("/Users", example2);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ userName: "jyoung@testuser.com", externalId: "jyoung", displayName: "Joy Young", active: true });
  expect(created.body.schemas).toContain(CORE_USER);
  expect(created.body.schemas).not.toContain("urn:ietf:params:scim:schemas:extension:enterprise:2.0User");
  for (const key of ["addresses", "phoneNumbers", "title", "manager"]) expect(created.body[key] ?? undefined).toBeUndefined();

  const found = await client.get(`/Users?${filter("externalId eq jyoung")}`);
  expect(found.status).toBe(200);
  expect(found.body.totalResults).toBe(1);
  expect(found.body.Resources[0].id).toBe(created.body.id);
});

test("Entra disables and re-enables a user with string booleans \"False\"/\"True\" and gets 200 with the full resource each time", async () => {
  const client = await harness.tenant("entra-disable-enable");
  const user = await create(client, "disable.me@testuser.com");
  const disabled = await client.patch(`/Users/${user.id}`, patchOp({ op: "Replace", path: "active", value: "False" }));
  expectFullResource(disabled, user.id);
  expect(disabled.body.active).toBe(false);
  expect((await client.get(`/Users/${user.id}`)).body.active).toBe(false);

  const enabled = await client.patch(`/Users/${user.id}`, patchOp({ op: "Replace", path: "active", value: "True" }));
  expectFullResource(enabled, user.id);
  expect(enabled.body.active).toBe(true);
  expect((await client.get(`/Users/${user.id}`)).body.active).toBe(true);
});

test("Entra disables a user with a string boolean and the user stays findable by userName with active:false", async () => {
  const client = await harness.tenant("entra-inactive-visible");
  const user = await create(client, "dale.mohr@romaguera.uk");
  expect((await client.patch(`/Users/${user.id}`, patchOp({ op: "Replace", path: "active", value: "False" }))).status).toBe(200);
  for (const path of [`/Users?filter=userName+eq+"dale.mohr%40romaguera.uk"`, `/Users?${filter('userName eq "dale.mohr@romaguera.uk"')}`]) {
    const found = await client.get(path);
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toMatchObject({ id: user.id, userName: "dale.mohr@romaguera.uk", active: false });
  }
  const all = await client.get("/Users");
  expect(all.body.Resources.map((r: { id: string }) => r.id)).toContain(user.id);
});

test("Entra replaces the work email and name.familyName and adds enterprise department/employeeNumber by URN path, 200 each", async () => {
  const client = await harness.tenant("entra-attribute-updates");
  const user = await create(client, "attr.user@testuser.com");

  const email = await client.patch(`/Users/${user.id}`, patchOp({ op: "Replace", path: 'emails[type eq "work"].value', value: "new.address@testuser.com" }));
  expectFullResource(email, user.id);
  expect(emailsOfType(email.body, "work")).toEqual([expect.objectContaining({ value: "new.address@testuser.com", primary: true })]);

  const family = await client.patch(`/Users/${user.id}`, patchOp({ op: "Replace", path: "name.familyName", value: "Youngblood" }));
  expectFullResource(family, user.id);
  expect(family.body.name).toMatchObject({ familyName: "Youngblood", givenName: "Joy" });

  const enterprise = await client.patch(`/Users/${user.id}`, patchOp(
    { op: "Add", path: `${ENTERPRISE}:department`, value: "Finance" },
    { op: "Add", path: `${ENTERPRISE}:employeeNumber`, value: "701984" },
  ));
  expectFullResource(enterprise, user.id);
  expect(enterprise.body[ENTERPRISE]).toMatchObject({ department: "Finance", employeeNumber: "701984" });

  const read = await client.get(`/Users/${user.id}`);
  expect(emailsOfType(read.body, "work").map((e) => e.value)).toEqual(["new.address@testuser.com"]);
  expect(read.body.name.familyName).toBe("Youngblood");
  expect(read.body[ENTERPRISE]).toMatchObject({ department: "Finance", employeeNumber: "701984" });
  expect(read.body.schemas).toContain(ENTERPRISE);
});

test("Entra adds a home email that does not exist yet (it is created) and replaces its display in the same request without a duplicate", async () => {
  const client = await harness.tenant("entra-home-email");
  const user = await create(client, "home.user@testuser.com");
  const patched = await client.patch(`/Users/${user.id}`, patchOp(
    { op: "Add", path: 'emails[type eq "home"].value', value: "joy@home.example" },
    { op: "Replace", path: 'emails[type eq "home"].display', value: "Joy at home" },
  ));
  expectFullResource(patched, user.id);
  expect(emailsOfType(patched.body, "home")).toEqual([expect.objectContaining({ type: "home", value: "joy@home.example", display: "Joy at home" })]);
  expect(emailsOfType(patched.body, "work")).toEqual([expect.objectContaining({ value: "home.user@testuser.com", primary: true })]);
  expect(patched.body.emails).toHaveLength(2);

  const read = await client.get(`/Users/${user.id}`);
  expect(read.body.emails).toHaveLength(2);
  expect(emailsOfType(read.body, "home")).toEqual([expect.objectContaining({ value: "joy@home.example", display: "Joy at home" })]);
});

test("Entra sets the manager as in the doc's Example 5 (array with $ref) and as a plain id on the enterprise path; GET shows manager.value", async () => {
  const client = await harness.tenant("entra-manager");
  const [boss, deputy, report] = await Promise.all([create(client, "boss@testuser.com"), create(client, "deputy@testuser.com"), create(client, "report@testuser.com")]);

  const example5 = await client.patch(`/Users/${report.id}`, patchOp({
    op: "Add", path: "manager", value: [{ $ref: `${harness.scimUrl}/Users/${boss.id}`, value: boss.id }],
  }));
  expectFullResource(example5, report.id);
  expect(example5.body[ENTERPRISE]?.manager?.value).toBe(boss.id);
  expect((await client.get(`/Users/${report.id}`)).body[ENTERPRISE]?.manager?.value).toBe(boss.id);

  const plain = await client.patch(`/Users/${report.id}`, patchOp({ op: "Replace", path: `${ENTERPRISE}:manager`, value: deputy.id }));
  expectFullResource(plain, report.id);
  expect(plain.body[ENTERPRISE]?.manager?.value).toBe(deputy.id);
  expect((await client.get(`/Users/${report.id}`)).body[ENTERPRISE]?.manager?.value).toBe(deputy.id);
});

test("Entra in SCIM-compliant mode (?aadOptscim062020) sends lowercase ops, a boolean false and a path-less multi-replace with dotted and URN keys", async () => {
  const client = await harness.tenant("entra-compliant-mode");
  const user = await create(client, "compliant.user@testuser.com");

  const disabled = await client.patch(`/Users/${user.id}${COMPLIANT}`, patchOp({ op: "replace", path: "active", value: false }));
  expectFullResource(disabled, user.id);
  expect(disabled.body.active).toBe(false);
  const enabled = await client.patch(`/Users/${user.id}${COMPLIANT}`, patchOp({ op: "replace", path: "active", value: true }));
  expect(enabled.status).toBe(200);
  expect(enabled.body.active).toBe(true);

  const multi = await client.patch(`/Users/${user.id}${COMPLIANT}`, patchOp({
    op: "replace",
    value: { displayName: "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua", [`${ENTERPRISE}:employeeNumber`]: "Aklq" },
  }));
  expectFullResource(multi, user.id);
  expect(multi.body.displayName).toBe("Bjfe");
  expect(multi.body.name).toMatchObject({ givenName: "Kkom", familyName: "Unua" });
  expect(multi.body[ENTERPRISE]).toMatchObject({ employeeNumber: "Aklq" });

  const read = await client.get(`/Users/${user.id}`);
  expect(read.body).toMatchObject({ displayName: "Bjfe", name: { givenName: "Kkom", familyName: "Unua" }, userName: "compliant.user@testuser.com", active: true });
  expect(read.body[ENTERPRISE]).toMatchObject({ employeeNumber: "Aklq" });
  expect(read.body.name.formatted).toBe("Joy Young");
});

test("Entra hard-deletes a user: 204, then 404, the user leaves its groups, and the same userName can be provisioned again with a new id", async () => {
  const client = await harness.tenant("entra-hard-delete");
  const [leaver, stayer] = await Promise.all([create(client, "purged@testuser.com"), create(client, "stayer@testuser.com")]);
  const group = await client.post("/Groups", {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Purge team", members: [{ value: leaver.id }, { value: stayer.id }],
  });
  expect(group.status).toBe(201);
  // while the user exists, a second create with that userName is a conflict, which Entra then matches on
  const conflict = await client.post("/Users", entraUser("PURGED@testuser.com"));
  expect(conflict.status).toBe(409);
  expect(conflict.body).toMatchObject({ schemas: [ERROR], status: "409", scimType: "uniqueness" });

  const deleted = await client.delete(`/Users/${leaver.id}`);
  expect(deleted.status).toBe(204);
  const gone = await client.get(`/Users/${leaver.id}`);
  expect(gone.status).toBe(404);
  expect(gone.body).toMatchObject({ schemas: [ERROR], status: "404" });
  expect(gone.body.detail).toEqual(expect.any(String));
  expect((await client.get(`/Users?${filter('userName eq "purged@testuser.com"')}`)).body.totalResults).toBe(0);
  expect((await client.delete(`/Users/${leaver.id}`)).status).toBe(404);

  const members = (await client.get(`/Groups/${group.body.id}`)).body.members as { value: string }[];
  expect(members.map((m) => m.value)).toEqual([stayer.id]);

  const again = await client.post("/Users", entraUser("purged@testuser.com"));
  expect(again.status).toBe(201);
  expect(again.body.id).not.toBe(leaver.id);
  const found = await client.get(`/Users?${filter('userName eq "purged@testuser.com"')}`);
  expect(found.body.totalResults).toBe(1);
  expect(found.body.Resources[0].id).toBe(again.body.id);
});

test("An Entra-validator PATCH /Users with an empty Operations list is rejected with 400 and changes nothing", async () => {
  const client = await harness.tenant("entra-empty-user-patch");
  const user = await create(client, "empty.ops@testuser.com");
  const response = await client.patch(`/Users/${user.id}`, patchOp());
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ schemas: [ERROR], status: "400" });
  expect((await client.get(`/Users/${user.id}`)).body).toMatchObject({ active: true, userName: "empty.ops@testuser.com" });
});
