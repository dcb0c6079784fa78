// Several accounts' SCIM clients at full speed, interleaved: every resource stays where it was sent
// and no response ever carries another account's data (a peer returned users to the wrong tenant
// under 16 concurrent requests).
import { afterAll, beforeAll, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";

let harness: ScimHarness;
beforeAll(async () => {
  harness = await startScimHarness();
});
afterAll(() => harness.close());

const USERS_PER_TENANT = 40;
const user = (name: string, title: string) => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: name, title,
  name: { givenName: "Same", familyName: "Name" }, emails: [{ type: "work", primary: true, value: name }],
});

async function hammer(client: ScimClient, tenant: string): Promise<{ ids: string[]; bodies: string[] }> {
  const ids: string[] = [];
  const bodies: string[] = [];
  // every tenant uses the same userNames: uniqueness is per connection
  await Promise.all(Array.from({ length: USERS_PER_TENANT }, async (_, i) => {
    const created = await client.post("/Users", user(`person${i}@shared.example`, tenant));
    expect(created.status).toBe(201);
    ids.push(created.body.id);
    const [found, patched, listed] = await Promise.all([
      client.get(`/Users?filter=${encodeURIComponent(`userName eq "PERSON${i}@shared.example"`)}`),
      client.patch(`/Users/${created.body.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "displayName", value: `${tenant}-${i}` }] }),
      client.get(`/Users?startIndex=1&count=10`),
    ]);
    for (const r of [found, patched, listed]) {
      expect(r.status).toBe(200);
      bodies.push(JSON.stringify(r.body));
    }
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].title).toBe(tenant);
  }));
  return { ids, bodies };
}

test("four accounts writing and reading at once each see exactly their own users", async () => {
  const tenants = await Promise.all(["iso-a", "iso-b", "iso-c", "iso-d"].map((slug) => harness.tenant(slug)));
  const results = await Promise.all(tenants.map((client, i) => hammer(client, `tenant-${i}`)));

  for (const [i, client] of tenants.entries()) {
    const all = await client.get(`/Users?count=1000`);
    expect(all.body.totalResults).toBe(USERS_PER_TENANT);
    expect(new Set(all.body.Resources.map((r: { id: string }) => r.id))).toEqual(new Set(results[i]!.ids));
    expect(all.body.Resources.every((r: { title: string; displayName: string }) => r.title === `tenant-${i}` && r.displayName.startsWith(`tenant-${i}-`))).toBe(true);
    // no response this tenant received mentions another tenant's ids or title
    const foreignIds = results.flatMap((r, j) => (j === i ? [] : r.ids));
    for (const body of results[i]!.bodies) {
      expect(foreignIds.some((id) => body.includes(id))).toBe(false);
      expect(/tenant-(\d)/.exec(body)?.[1] ?? String(i)).toBe(String(i));
    }
  }
});

test("another account's resources are not found, not readable, not writable, not addable to groups", async () => {
  const [alpha, beta] = await Promise.all([harness.tenant("iso-alpha"), harness.tenant("iso-beta")]);
  const betaUser = (await beta.post("/Users", user("private@beta.example", "beta"))).body;
  const betaGroup = (await beta.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Beta team" })).body;
  const alphaGroup = (await alpha.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Alpha team" })).body;

  expect((await alpha.get(`/Users/${betaUser.id}`)).status).toBe(404);
  expect((await alpha.get(`/Groups/${betaGroup.id}`)).status).toBe(404);
  expect((await alpha.put(`/Users/${betaUser.id}`, user("stolen@alpha.example", "alpha"))).status).toBe(404);
  expect((await alpha.patch(`/Users/${betaUser.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "active", value: false }] })).status).toBe(404);
  expect((await alpha.delete(`/Users/${betaUser.id}`)).status).toBe(404);
  expect((await alpha.delete(`/Groups/${betaGroup.id}`)).status).toBe(404);
  const smuggle = await alpha.patch(`/Groups/${alphaGroup.id}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: betaUser.id }] }] });
  expect(smuggle.status).toBe(400);
  expect((await alpha.get(`/Users?filter=${encodeURIComponent(`id eq "${betaUser.id}"`)}`)).body.totalResults).toBe(0);

  const untouched = await beta.get(`/Users/${betaUser.id}`);
  expect(untouched.status).toBe(200);
  expect(untouched.body.active).toBe(true);
  expect(untouched.body.userName).toBe("private@beta.example");
});
