// The published /Schemas is the contract: what Entra, Okta and independent SCIM testers sent that idsync
// refused, dropped or answered with a 5xx, each replayed over HTTP against the real server (issue 13).
// RFC 7643 §2.3.1/§7 (canonical values are suggestions), §3.3 (extension schemas), RFC 7644 §3.5.2 (PATCH).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { URN } from "../../src/sources/scim/schemas.ts";
import { MAX_BODY_DEPTH } from "../../src/sources/scim/body-shape.ts";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";

const patchBody = (...Operations: object[]) => ({ schemas: [URN.patchOp], Operations });
const newUser = (extra: Record<string, unknown> = {}) => ({ schemas: [URN.user], userName: `u-${randomUUID()}@accept.example.com`, ...extra });

function expectScimError(response: ScimResponse, status: number, scimType: string): void {
  const context = JSON.stringify(response.body);
  expect(response.status, context).toBe(status);
  expect(response.body.schemas, context).toEqual([URN.error]);
  expect(response.body.scimType, context).toBe(scimType);
}

let harness: ScimHarness;
let client: ScimClient;
beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("accept");
});
afterAll(() => harness?.close());

async function created(body: Record<string, unknown>, path = "/Users"): Promise<any> {
  const response = await client.post(path, body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

describe("canonical values are advertised, never a reason to refuse", () => {
  const entraRoles = [{ primary: "True", type: "WindowsAzureActiveDirectoryRole", value: "Admin" }];

  test("Entra app roles on POST /Users are stored and read back (primary as a boolean)", async () => {
    const user = await created(newUser({ roles: entraRoles }));
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body.roles).toEqual([{ primary: true, type: "WindowsAzureActiveDirectoryRole", value: "Admin" }]);
  });

  test("Entra's PATCH {op: Add, path: roles} is applied", async () => {
    const user = await created(newUser());
    const patched = await client.patch(`/Users/${user.id}`, patchBody({ op: "Add", path: "roles", value: entraRoles }));
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await client.get(`/Users/${user.id}`)).body.roles).toEqual([{ primary: true, type: "WindowsAzureActiveDirectoryRole", value: "Admin" }]);
  });

  test("x509Certificates with a type of the client's choosing", async () => {
    const user = await created(newUser({ x509Certificates: [{ type: "signing", value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw" }] }));
    expect((await client.get(`/Users/${user.id}`)).body.x509Certificates).toEqual([{ type: "signing", value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw" }]);
  });

  test("an unknown idsync role or access is stored as sent (the mapping decides what it grants)", async () => {
    const user = await created(newUser({
      schemas: [URN.user, URN.idsync],
      [URN.idsync]: { role: "superuser", domainGrants: [{ domain: "accept.example.com", access: "admin" }] },
    }));
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body[URN.idsync]).toEqual({ role: "superuser", domainGrants: [{ domain: "accept.example.com", access: "admin" }] });
  });

  test("/Schemas still advertises every canonical value list", async () => {
    const schemas = (await client.get("/Schemas")).body.Resources as Array<{ id: string; attributes: any[] }>;
    const attribute = (urn: string, path: string) => {
      const [name, sub] = path.split(".");
      const top = schemas.find((s) => s.id === urn)!.attributes.find((a) => a.name === name);
      return sub ? top.subAttributes.find((a: any) => a.name === sub) : top;
    };
    expect(attribute(URN.user, "emails.type").canonicalValues).toEqual(["work", "home", "other"]);
    expect(attribute(URN.user, "phoneNumbers.type").canonicalValues).toContain("mobile");
    expect(attribute(URN.group, "members.type").canonicalValues).toEqual(["User", "Group"]);
    expect(attribute(URN.idsync, "role").canonicalValues).toEqual(["owner", "admin", "member"]);
    expect(attribute(URN.idsync, "domainGrants.access").canonicalValues).toEqual(["read", "write"]);
  });
});

describe("extension schemas", () => {
  test("PATCH with the extension URN as path and a value carrying its own schemas", async () => {
    const user = await created(newUser({ schemas: [URN.user, URN.enterprise], [URN.enterprise]: { employeeNumber: "42" } }));
    const patched = await client.patch(`/Users/${user.id}`, patchBody({
      op: "replace", path: URN.enterprise, value: { schemas: [URN.enterprise], employeeNumber: "43" },
    }));
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await client.get(`/Users/${user.id}`)).body[URN.enterprise].employeeNumber).toBe("43");
  });

  const VENDOR = "urn:example:params:scim:schemas:extension:acme:2.0:User";

  test("an extension /Schemas does not declare is kept as sent and returned", async () => {
    const value = { costCenter: "4711", badges: [{ id: 7, kind: "Visitor" }], nested: { deeper: { flag: true } } };
    const user = await created(newUser({ schemas: [URN.user, VENDOR], [VENDOR]: value }));
    expect(user[VENDOR]).toEqual(value);
    expect(user.schemas).toContain(VENDOR);
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body[VENDOR]).toEqual(value);
    expect(read.body.schemas).toContain(VENDOR);
  });

  test("PUT replaces an undeclared extension; PATCH adds, replaces and removes inside it", async () => {
    const user = await created(newUser({ schemas: [URN.user, VENDOR], [VENDOR]: { costCenter: "1" } }));
    const put = await client.put(`/Users/${user.id}`, { ...newUser({ userName: user.userName }), schemas: [URN.user, VENDOR], [VENDOR]: { costCenter: "2" } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body[VENDOR]).toEqual({ costCenter: "2" });
    const replaced = await client.patch(`/Users/${user.id}`, patchBody({ op: "Replace", path: `${VENDOR}:costCenter`, value: "3" }, { op: "add", path: `${VENDOR}:site`, value: "Berlin" }));
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body[VENDOR]).toEqual({ costCenter: "3", site: "Berlin" });
    const removed = await client.patch(`/Users/${user.id}`, patchBody({ op: "remove", path: `${VENDOR}:costCenter` }));
    expect((await client.get(`/Users/${user.id}`)).body[VENDOR], JSON.stringify(removed.body)).toEqual({ site: "Berlin" });
    const whole = await client.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: VENDOR, value: { schemas: [VENDOR], tier: "gold" } }));
    expect(whole.status, JSON.stringify(whole.body)).toBe(200);
    expect((await client.get(`/Users/${user.id}`)).body[VENDOR]).toEqual({ tier: "gold" });
    await client.patch(`/Users/${user.id}`, patchBody({ op: "remove", path: VENDOR }));
    const gone = await client.get(`/Users/${user.id}`);
    expect(gone.body[VENDOR]).toBeUndefined();
    expect(gone.body.schemas).not.toContain(VENDOR);
  });

  test("a path-less PATCH value with an undeclared extension key is kept", async () => {
    const user = await created(newUser());
    const patched = await client.patch(`/Users/${user.id}`, patchBody({ op: "add", value: { [VENDOR]: { costCenter: "9" }, displayName: "Nine" } }));
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body[VENDOR]).toEqual({ costCenter: "9" });
    expect(read.body.displayName).toBe("Nine");
  });
});

describe("a Group keeps an extension /Schemas does not declare, as a User does", () => {
  const VENDOR = "urn:example:params:scim:schemas:extension:acme:2.0:Group";
  const newGroup = (extra: Record<string, unknown> = {}) => ({ schemas: [URN.group], displayName: `g-${randomUUID()}`, ...extra });
  const read = async (id: string) => (await client.get(`/Groups/${id}`)).body;
  const patched = async (id: string, ...operations: object[]) => {
    const response = await client.patch(`/Groups/${id}`, patchBody(...operations));
    expect(response.status, JSON.stringify(response.body)).toBe(204);
    return read(id);
  };

  test("POST keeps it as sent and returns it; PUT replaces it", async () => {
    const value = { costCenter: "4711", owners: [{ id: 7 }], nested: { deeper: { flag: true } } };
    const group = await created(newGroup({ schemas: [URN.group, VENDOR], [VENDOR]: value }), "/Groups");
    expect(group[VENDOR]).toEqual(value);
    expect((await read(group.id))[VENDOR]).toEqual(value);
    expect((await read(group.id)).schemas).toEqual([URN.group, VENDOR]);
    const put = await client.put(`/Groups/${group.id}`, { ...newGroup({ displayName: group.displayName }), schemas: [URN.group, VENDOR], [VENDOR]: { costCenter: "2" } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body[VENDOR]).toEqual({ costCenter: "2" });
    const without = await client.put(`/Groups/${group.id}`, newGroup({ displayName: group.displayName }));
    expect(without.body[VENDOR]).toBeUndefined();
    expect(without.body.schemas).toEqual([URN.group]);
  });

  test("PATCH on a URN-qualified attribute: Replace (Entra's spelling), add, remove", async () => {
    const group = await created(newGroup({ schemas: [URN.group, VENDOR], [VENDOR]: { costCenter: "1" } }), "/Groups");
    const after = await patched(group.id, { op: "Replace", path: `${VENDOR}:costCenter`, value: "3" }, { op: "add", path: `${VENDOR}:site`, value: "Berlin" });
    expect(after[VENDOR]).toEqual({ costCenter: "3", site: "Berlin" });
    expect((await patched(group.id, { op: "remove", path: `${VENDOR}:costCenter` }))[VENDOR]).toEqual({ site: "Berlin" });
    expect((await patched(group.id, { op: "add", path: `${VENDOR}:nested.level`, value: 2 }))[VENDOR]).toEqual({ site: "Berlin", nested: { level: 2 } });
  });

  test("PATCH with the extension URN as path, its value with and without its own schemas; remove drops it from schemas", async () => {
    const group = await created(newGroup(), "/Groups");
    expect((await patched(group.id, { op: "add", path: VENDOR, value: { tier: "silver" } }))[VENDOR]).toEqual({ tier: "silver" });
    const whole = await patched(group.id, { op: "replace", path: VENDOR, value: { schemas: [VENDOR], tier: "gold" } });
    expect(whole[VENDOR]).toEqual({ tier: "gold" });
    expect(whole.schemas).toEqual([URN.group, VENDOR]);
    const gone = await patched(group.id, { op: "remove", path: VENDOR });
    expect(gone[VENDOR]).toBeUndefined();
    expect(gone.schemas).toEqual([URN.group]);
  });

  test("a path-less PATCH value with an undeclared extension key is kept, beside a rename and a member added", async () => {
    const group = await created(newGroup(), "/Groups");
    const user = await created(newUser(), "/Users");
    const renamed = `renamed-${randomUUID()}`;
    const after = await patched(group.id,
      { op: "replace", value: { id: group.id, displayName: renamed, [VENDOR]: { costCenter: "9" } } },
      { op: "add", path: "members", value: [{ value: user.id }] });
    expect(after.displayName).toBe(renamed);
    expect(after[VENDOR]).toEqual({ costCenter: "9" });
    expect(after.members.map((m: { value: string }) => m.value)).toEqual([user.id]);
    // a later membership-only PATCH leaves the extension where it is
    expect((await patched(group.id, { op: "remove", path: `members[value eq "${user.id}"]` }))[VENDOR]).toEqual({ costCenter: "9" });
  });

  test("a value filter inside an undeclared extension is 400 invalidPath; nothing is written", async () => {
    const group = await created(newGroup({ schemas: [URN.group, VENDOR], [VENDOR]: { tags: [{ kind: "a" }] } }), "/Groups");
    const response = await client.patch(`/Groups/${group.id}`, patchBody({ op: "replace", path: "displayName", value: "never" }, { op: "remove", path: `${VENDOR}:tags[kind eq "a"]` }));
    expectScimError(response, 400, "invalidPath");
    const unchanged = await read(group.id);
    expect(unchanged.displayName).toBe(group.displayName);
    expect(unchanged[VENDOR]).toEqual({ tags: [{ kind: "a" }] });
  });
});

describe("nesting deeper than the documented limit is a 400, not a 500", () => {
  // built as text: JSON.stringify itself recurses
  const nestObjects = (levels: number) => `${'{"inner":'.repeat(levels)}"leaf"${"}".repeat(levels)}`;
  const nestArrays = (levels: number) => `${"[".repeat(levels)}"leaf"${"]".repeat(levels)}`;
  const withValue = (key: string, json: string) => JSON.stringify(newUser()).replace(/}$/, `,${JSON.stringify(key)}:${json}}`);
  const VENDOR = "urn:example:params:scim:schemas:extension:deep:2.0:User";

  test("an extension value nesting objects 5,000 levels deep", async () => {
    expectScimError(await client.post("/Users", withValue(VENDOR, nestObjects(5000))), 400, "invalidSyntax");
  });

  test("an array nested 20,000 levels deep", async () => {
    expectScimError(await client.post("/Users", withValue(VENDOR, nestArrays(20_000))), 400, "invalidSyntax");
    const patch = JSON.stringify(patchBody({ op: "add", path: "displayName", value: "x" })).replace('"x"', nestArrays(20_000));
    expectScimError(await client.patch(`/Users/${randomUUID()}`, patch), 400, "invalidSyntax");
  });

  test("nesting up to the limit is accepted", async () => {
    // the body is level 1; the extension's value nests objects from level 2 on
    const response = await client.post("/Users", withValue(VENDOR, nestObjects(MAX_BODY_DEPTH - 1)));
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect((await client.get(`/Users/${response.body.id}`)).body[VENDOR]).toEqual(JSON.parse(nestObjects(MAX_BODY_DEPTH - 1)));
    expectScimError(await client.post("/Users", withValue(VENDOR, nestObjects(MAX_BODY_DEPTH))), 400, "invalidSyntax");
  });
});

describe("errors name the attribute and the rule, never a library's text", () => {
  test("a wrong type", async () => {
    const response = await client.post("/Users", newUser({ active: "perhaps" }));
    expectScimError(response, 400, "invalidValue");
    expect(response.body.detail).toBe("active: must be a boolean (true or false), not a string");
  });

  test("a single value where the schema says multi-valued, inside an extension", async () => {
    const response = await client.post("/Users", newUser({ [URN.idsync]: { domainGrants: { domain: "x.example.com" } } }));
    expectScimError(response, 400, "invalidValue");
    expect(response.body.detail).toBe(`${URN.idsync}:domainGrants: is multi-valued: send an array`);
  });

  test("a missing required sub-attribute", async () => {
    const response = await client.post("/Users", newUser({ [URN.idsync]: { domainGrants: [{ access: "read" }] } }));
    expectScimError(response, 400, "invalidValue");
    expect(response.body.detail).toBe(`${URN.idsync}:domainGrants.domain: is required`);
  });

  test("readOnly attributes in a body are ignored, not stored", async () => {
    const user = await created(newUser({
      id: "11111111-1111-4111-8111-111111111111", meta: { resourceType: "Group", created: "2001-01-01T00:00:00Z" },
      groups: [{ value: randomUUID() }],
      schemas: [URN.user, URN.enterprise], [URN.enterprise]: { manager: { value: "m-1", displayName: "Not Stored" } },
    }));
    expect(user.id).not.toBe("11111111-1111-4111-8111-111111111111");
    expect(user.meta.resourceType).toBe("User");
    expect(user.groups ?? []).toEqual([]);
    expect(user[URN.enterprise].manager).toEqual({ value: "m-1" });
  });

  test("a PATCH path whose value filter does not parse is 400 invalidPath, for remove as for replace", async () => {
    const user = await created(newUser({ emails: [{ value: "keep@accept.example.com", type: "work" }] }));
    for (const operation of [{ op: "remove", path: "emails[type eq]" }, { op: "replace", path: "emails[type eq].value", value: "x" }]) {
      const response = await client.patch(`/Users/${user.id}`, patchBody(operation));
      expectScimError(response, 400, "invalidPath");
      expect(response.body.detail).toBe(`"${operation.path}": the value filter is not valid filter syntax (RFC 7644 §3.4.2.2)`);
    }
    expect((await client.get(`/Users/${user.id}`)).body.emails).toEqual([{ value: "keep@accept.example.com", type: "work" }]);
  });

  test("a filter naming an extension /Schemas does not declare is 400 invalidFilter in idsync's words", async () => {
    const vendor = "urn:example:params:scim:schemas:extension:acme:2.0:User";
    const response = await client.get(`/Users?filter=${encodeURIComponent(`${vendor}:costCenter eq "1"`)}`);
    expectScimError(response, 400, "invalidFilter");
    expect(response.body.detail).toBe(`unknown attribute "${vendor}:costCenter": /Schemas declares no such attribute for this resource type`);
  });

  test("a duplicate userName is 409 uniqueness; removing displayName of a Group is 400 mutability", async () => {
    const user = await created(newUser());
    expectScimError(await client.post("/Users", newUser({ userName: user.userName.toUpperCase() })), 409, "uniqueness");
    const group = await created({ schemas: [URN.group], displayName: `g-${randomUUID()}` }, "/Groups");
    expectScimError(await client.patch(`/Groups/${group.id}`, patchBody({ op: "remove", path: "displayName" })), 400, "mutability");
  });
});

describe("group members: every remove form takes effect, for every member kind", () => {
  const members = async () => {
    const user = await created(newUser({ displayName: "Ada" }));
    const nested = await created({ schemas: [URN.group], displayName: `nested-${randomUUID()}` }, "/Groups");
    const group = await created({
      schemas: [URN.group], displayName: `full-${randomUUID()}`, externalId: `ext-${randomUUID()}`,
      members: [
        { value: user.id, type: "User", display: "Ada", $ref: `${harness.scimUrl}/Users/${user.id}` },
        { value: nested.id, type: "Group", display: "Nested", $ref: `${harness.scimUrl}/Groups/${nested.id}` },
      ],
    }, "/Groups");
    expect(group.members).toHaveLength(2);
    return { user, nested, group };
  };
  const memberTypes = async (id: string) => ((await client.get(`/Groups/${id}`)).body.members ?? []).map((m: { type: string }) => m.type).sort();
  const remove = async (id: string, operation: object) => {
    const response = await client.patch(`/Groups/${id}`, patchBody(operation));
    expect(response.status, JSON.stringify(response.body)).toBe(204);
  };

  test("remove members with an empty value list (clients that always send value) empties the group", async () => {
    const { group } = await members();
    await remove(group.id, { op: "remove", path: "members", value: [] });
    expect(await memberTypes(group.id)).toEqual([]);
  });

  test("remove members without a value empties a group holding users and nested groups", async () => {
    const { group } = await members();
    await remove(group.id, { op: "Remove", path: `${URN.group}:members` });
    expect(await memberTypes(group.id)).toEqual([]);
  });

  test("value filters on type and display select the members they match", async () => {
    const { group } = await members();
    await remove(group.id, { op: "remove", path: 'members[type eq "group"]' });
    expect(await memberTypes(group.id)).toEqual(["User"]);
    await remove(group.id, { op: "remove", path: 'members[display eq "ADA"]' });
    expect(await memberTypes(group.id)).toEqual([]);
  });

  test("a member given by $ref alone, and by value with its type", async () => {
    const { nested, user, group } = await members();
    await remove(group.id, { op: "remove", path: "members", value: [{ $ref: `${harness.scimUrl}/Groups/${nested.id}` }] });
    expect(await memberTypes(group.id)).toEqual(["User"]);
    await remove(group.id, { op: "remove", path: "members", value: [{ value: user.id, type: "User" }] });
    expect(await memberTypes(group.id)).toEqual([]);
  });
});

describe("attributes named by their schema URN in a POST or PUT body (RFC 7644 §3.10)", () => {
  test("core, sub-attribute and enterprise keys qualified by their URN are the attributes they name", async () => {
    const user = await created(newUser({
      [`${URN.user}:title`]: "Head of Mail",
      [`${URN.user}:name.givenName`]: "Ada",
      [`${URN.enterprise}:employeeNumber`]: "42",
    }));
    const read = (await client.get(`/Users/${user.id}`)).body;
    expect(read.title).toBe("Head of Mail");
    expect(read.name?.givenName).toBe("Ada");
    expect(read[URN.enterprise]?.employeeNumber).toBe("42");
    expect(read.schemas).toContain(URN.enterprise);
    // PUT replaces with the qualified spelling too; the plain spelling wins where both are sent
    const put = await client.put(`/Users/${user.id}`, { schemas: [URN.user], userName: read.userName, [`${URN.user}:title`]: "qualified", title: "plain", [`${URN.user}:displayName`]: "Ada L." });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const after = (await client.get(`/Users/${user.id}`)).body;
    expect(after.title).toBe("plain");
    expect(after.displayName).toBe("Ada L.");
  });

  test("a group's displayName qualified by the core Group URN is its displayName", async () => {
    const group = await created({ schemas: [URN.group], [`${URN.group}:displayName`]: `Qualified ${randomUUID()}` }, "/Groups");
    expect(group.displayName).toMatch(/^Qualified /);
  });
});
