// SCIM filtering (RFC 7644 §3.4.2.2), sorting and attribute projection against a real database over
// HTTP: each filter must return exactly the users it describes, in this tenant and no other.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startScimHarness, type ScimClient, type ScimHarness } from "../support/scim-harness.ts";

const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const IDSYNC = "urn:ietf:params:scim:schemas:extension:idsync:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

interface Seed {
  userName: string;
  emails?: Array<{ type: string; value: string; primary?: boolean }>;
  active?: boolean;
  title?: string;
  externalId?: string;
  department?: string;
  role?: string;
}

const work = (value: string) => ({ type: "work", value, primary: true });
const home = (value: string) => ({ type: "home", value });

// created in this order; the creation time between DAVE and ERIN splits them for meta.created
const SEEDS: Seed[] = [
  { userName: "Alice.Admin@Acme.example", emails: [work("alice@acme.example"), home("alice@home.example")], title: "Engineer", department: "Engineering", role: "admin" },
  { userName: "bob@acme.example", emails: [work("bob@acme.example")], active: false, title: "Sales Lead", department: "Sales", role: "member" },
  { userName: "carol@acme.example", emails: [work("carol@acme.example")] },
  // dave's HOME address is carol's work address: a value-path filter on work emails must not match him
  { userName: "dave@partner.example", emails: [work("dave@partner.example"), home("carol@acme.example")], title: "Engineer", department: "Engineering", role: "member" },
  { userName: "erin@acme.example", title: "Designer", department: "Design" },
  { userName: "FRANK@ACME.EXAMPLE", emails: [work("frank@acme.example")], title: "engineer" },
  { userName: "grace@contractor.example", emails: [work("grace@contractor.example")], active: false, role: "owner" },
  { userName: "heidi@acme.example", emails: [work("heidi@acme.example")], title: "Manager", externalId: "HEIDI-1", department: "Sales" },
];

const ALL = SEEDS.map((s) => s.userName);
const [ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, HEIDI] = ALL as [string, string, string, string, string, string, string, string];
const except = (...names: string[]) => ALL.filter((n) => !names.includes(n));

function body(seed: Seed): Record<string, unknown> {
  const extensions: Record<string, unknown> = {};
  if (seed.department) extensions[ENTERPRISE] = { department: seed.department };
  if (seed.role) extensions[IDSYNC] = { role: seed.role };
  return {
    schemas: [CORE, ...Object.keys(extensions)],
    userName: seed.userName,
    name: { givenName: seed.userName.split("@")[0], familyName: "Example" },
    ...(seed.emails ? { emails: seed.emails } : {}),
    ...(seed.active === undefined ? {} : { active: seed.active }),
    ...(seed.title ? { title: seed.title } : {}),
    ...(seed.externalId ? { externalId: seed.externalId } : {}),
    ...extensions,
  };
}

let harness: ScimHarness;
let client: ScimClient;
let other: ScimClient;
const ids = new Map<string, string>();
let createdBetween = "";
/** meta.created of each seed, as the POST answered it */
const stamps: string[] = [];
const ALL_TENANT_USERS = SEEDS.map((seed) => seed.userName);
let engineeringId = "";
let salesId = "";

async function created(c: ScimClient, path: string, payload: unknown): Promise<{ id: string; meta: { created: string } }> {
  const response = await c.post(path, payload);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("filter-main");
  for (const seed of SEEDS) {
    if (seed.userName === ERIN) await new Promise((resolve) => setTimeout(resolve, 60));
    const user = await created(client, "/Users", body(seed));
    ids.set(seed.userName, user.id);
    stamps.push(user.meta.created);
  }
  // strictly after DAVE's creation (whose stored time may carry sub-millisecond digits) and before ERIN's
  const [dave, erin] = [Date.parse(stamps[3]!), Date.parse(stamps[4]!)];
  createdBetween = new Date(Math.round((dave + erin) / 2)).toISOString();

  engineeringId = (await created(client, "/Groups", { schemas: [GROUP], displayName: "Engineering Team", members: [] })).id;
  salesId = (await created(client, "/Groups", { schemas: [GROUP], displayName: "Sales", members: [{ value: ids.get(BOB) }] })).id;
  const added = await client.patch(`/Groups/${engineeringId}`, {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    Operations: [{ op: "add", path: "members", value: [{ value: ids.get(ALICE) }, { value: ids.get(DAVE) }] }],
  });
  expect([200, 204]).toContain(added.status);

  // another tenant with look-alike data: none of it may ever be returned to the first
  other = await harness.tenant("filter-other");
  for (const seed of [SEEDS[0]!, { ...SEEDS[3]!, userName: "zed@acme.example" }, { ...SEEDS[6]!, userName: "yan@acme.example" }]) {
    await created(other, "/Users", body(seed));
  }
  await created(other, "/Groups", { schemas: [GROUP], displayName: "Engineering Team" });
});
afterAll(() => harness.close());

const query = (filter: string, extra = "") => `filter=${encodeURIComponent(filter)}${extra}`;

/** The userNames a filter returns (sorted), after checking the ListResponse is whole and this tenant's. */
async function userNames(filter: string): Promise<string[]> {
  const response = await client.get(`/Users?${query(filter, "&count=100")}`);
  expect(response.status, `${filter}: ${JSON.stringify(response.body)}`).toBe(200);
  expect(response.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
  const resources = response.body.Resources as Array<{ id: string; userName: string }>;
  expect(response.body.totalResults).toBe(resources.length);
  const ours = new Set(ids.values());
  for (const r of resources) expect(ours.has(r.id), `${r.userName} is not a user of this tenant`).toBe(true);
  return resources.map((r) => r.userName).sort();
}

const sorted = (names: string[]) => [...names].sort();

describe("user filters return exactly the matching users", () => {
  test.each<[string, () => string, () => string[]]>([
    ["userName eq in another case", () => 'userName eq "ALICE.ADMIN@ACME.EXAMPLE"', () => [ALICE]],
    ["userName eq in lower case finds an upper-case userName", () => 'userName eq "frank@acme.example"', () => [FRANK]],
    ["ne excludes only the named user", () => 'userName ne "BOB@acme.example"', () => except(BOB)],
    ["co is a case-insensitive substring", () => 'userName co "ACME"', () => [ALICE, BOB, CAROL, ERIN, FRANK, HEIDI]],
    ["sw matches a prefix", () => 'userName sw "g"', () => [GRACE]],
    ["ew matches a suffix", () => 'userName ew "@PARTNER.example"', () => [DAVE]],
    ["co treats _ as a literal character, not a wildcard", () => 'userName co "_"', () => []],
    ["co treats % as a literal character, not a wildcard", () => 'userName co "%"', () => []],
    ["pr on title finds users with a title", () => "title pr", () => [ALICE, BOB, DAVE, ERIN, FRANK, HEIDI]],
    ["not (title pr) finds users without one", () => "not (title pr)", () => [CAROL, GRACE]],
    ["title eq is case-insensitive", () => 'title eq "ENGINEER"', () => [ALICE, DAVE, FRANK]],
    ["not (A or B) excludes both", () => 'not (userName eq "alice.admin@acme.example" or userName eq "bob@acme.example")', () => except(ALICE, BOB)],
    ["not (A and B) excludes only users matching both", () => 'not (active eq true and title eq "engineer")', () => except(ALICE, DAVE, FRANK)],
    ["and binds tighter than or", () => 'userName sw "grace" or active eq false and title pr', () => [BOB, GRACE]],
    ["active eq false", () => "active eq false", () => [BOB, GRACE]],
    ["active eq true", () => "active eq true", () => except(BOB, GRACE)],
    ["a value path holds both conditions on the same email", () => 'emails[type eq "work"].value eq "carol@acme.example"', () => [CAROL]],
    ["emails.value matches any email, work or home", () => 'emails.value eq "carol@acme.example"', () => [CAROL, DAVE]],
    ["emails.value co", () => 'emails.value co "@HOME.example"', () => [ALICE]],
    ["a bracket filter with and", () => 'emails[type eq "work" and value co "@acme"]', () => [ALICE, BOB, CAROL, FRANK, HEIDI]],
    ["a bracket filter on type alone", () => 'emails[type eq "home"]', () => [ALICE, DAVE]],
    ["enterprise department eq", () => `${ENTERPRISE}:department eq "engineering"`, () => [ALICE, DAVE]],
    ["not over an absent extension attribute is true", () => `not (${ENTERPRISE}:department pr)`, () => [CAROL, FRANK, GRACE]],
    ["idsync role eq", () => `${IDSYNC}:role eq "member"`, () => [BOB, DAVE]],
    ["meta.created gt a timestamp", () => `meta.created gt "${createdBetween}"`, () => [ERIN, FRANK, GRACE, HEIDI]],
    ["meta.created lt a timestamp", () => `meta.created lt "${createdBetween}"`, () => [ALICE, BOB, CAROL, DAVE]],
    // co/sw/ew on a dateTime match the ISO 8601 text responses carry
    ["meta.created sw the year and month as rendered", () => `meta.created sw "${stamps[0]!.slice(0, 7)}"`, () => ALL_TENANT_USERS],
    ["meta.lastModified ew Z (every instant is rendered in UTC)", () => 'meta.lastModified ew "Z"', () => ALL_TENANT_USERS],
    ["meta.created co one user's whole rendered instant", () => `meta.created co "${stamps[4]!}"`, () => [ERIN]],
    ["meta.created sw text no rendering starts with", () => 'meta.created sw ";-0"', () => []],
    ["id eq", () => `id eq "${ids.get(CAROL)}"`, () => [CAROL]],
    ["id eq in upper case", () => `id eq "${ids.get(CAROL)!.toUpperCase()}"`, () => [CAROL]],
    ["id eq a non-UUID matches nothing", () => 'id eq "not-a-uuid"', () => []],
    ["externalId eq is case-exact", () => 'externalId eq "HEIDI-1"', () => [HEIDI]],
    ["externalId eq in another case matches nothing", () => 'externalId eq "heidi-1"', () => []],
    ["groups.value eq a group id", () => `groups.value eq "${engineeringId}"`, () => [ALICE, DAVE]],
    ["groups.display eq a group name", () => 'groups.display eq "sales"', () => [BOB]],
    ["a filter for users of another tenant matches nothing", () => 'userName eq "zed@acme.example"', () => []],
  ])("%s", async (_name, filter, expected) => {
    expect(await userNames(filter())).toEqual(sorted(expected()));
  });

  test("a filter matching nothing is 200 with totalResults 0 and an empty Resources", async () => {
    const response = await client.get(`/Users?${query('userName eq "nobody@nowhere.example"')}`);
    expect(response.status).toBe(200);
    expect(response.body.totalResults).toBe(0);
    expect(response.body.Resources).toEqual([]);
  });

  test("the same filter from the other tenant sees only its own look-alike", async () => {
    const response = await other.get(`/Users?${query('userName eq "alice.admin@acme.example"')}`);
    expect(response.status).toBe(200);
    expect(response.body.totalResults).toBe(1);
    expect(response.body.Resources[0].id).not.toBe(ids.get(ALICE));
    const engineers = await other.get(`/Users?${query(`${ENTERPRISE}:department eq "Engineering"`)}`);
    expect(engineers.body.Resources.map((r: { userName: string }) => r.userName).sort()).toEqual([ALICE, "zed@acme.example"]);
  });
});

describe("sorting and attribute projection", () => {
  test("sortBy=userName&sortOrder=descending orders case-insensitively", async () => {
    const response = await client.get("/Users?sortBy=userName&sortOrder=descending&count=100");
    expect(response.status).toBe(200);
    expect(response.body.Resources.map((r: { userName: string }) => r.userName))
      .toEqual([HEIDI, GRACE, FRANK, ERIN, DAVE, CAROL, BOB, ALICE]);
  });

  test("sortBy combines with a filter and ascending order", async () => {
    const response = await client.get(`/Users?${query("title pr")}&sortBy=title&sortOrder=ascending`);
    expect(response.status).toBe(200);
    expect(response.body.Resources.map((r: { title: string }) => r.title.toLowerCase()))
      .toEqual(["designer", "engineer", "engineer", "engineer", "manager", "sales lead"]);
  });

  test("attributes=userName,emails.value returns only those, plus id and schemas", async () => {
    const response = await client.get(`/Users?${query(`userName eq "${ALICE}"`)}&attributes=userName,emails.value`);
    expect(response.status).toBe(200);
    const [alice] = response.body.Resources;
    expect(alice).toEqual({
      schemas: expect.arrayContaining([CORE]),
      id: ids.get(ALICE),
      userName: ALICE,
      emails: [{ value: "alice@acme.example" }, { value: "alice@home.example" }],
    });
  });

  test("excludedAttributes=emails drops emails and keeps the rest, id and schemas included", async () => {
    const response = await client.get(`/Users?${query(`userName eq "${ALICE}"`)}&excludedAttributes=emails`);
    expect(response.status).toBe(200);
    const [alice] = response.body.Resources;
    expect(alice.emails).toBeUndefined();
    expect(alice.id).toBe(ids.get(ALICE));
    expect(alice.schemas).toContain(CORE);
    expect(alice.userName).toBe(ALICE);
    expect(alice.title).toBe("Engineer");
    expect(alice[ENTERPRISE]).toEqual({ department: "Engineering" });
  });

  test("excludedAttributes cannot remove id or schemas", async () => {
    const response = await client.get(`/Users/${ids.get(BOB)}?excludedAttributes=id,schemas,userName`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(ids.get(BOB));
    expect(response.body.schemas).toContain(CORE);
    expect(response.body.userName).toBeUndefined();
  });
});

describe("group filters", () => {
  async function groupNames(filter: string): Promise<string[]> {
    const response = await client.get(`/Groups?${query(filter)}`);
    expect(response.status, `${filter}: ${JSON.stringify(response.body)}`).toBe(200);
    expect(response.body.totalResults).toBe(response.body.Resources.length);
    for (const g of response.body.Resources) expect([engineeringId, salesId]).toContain(g.id);
    return response.body.Resources.map((g: { displayName: string }) => g.displayName).sort();
  }

  test("displayName eq is case-insensitive and stays in the tenant", async () => {
    expect(await groupNames('displayName eq "ENGINEERING team"')).toEqual(["Engineering Team"]);
  });

  test("members.value eq a user id finds the groups holding that user", async () => {
    expect(await groupNames(`members.value eq "${ids.get(BOB)}"`)).toEqual(["Sales"]);
    expect(await groupNames(`members.value eq "${ids.get(DAVE)}"`)).toEqual(["Engineering Team"]);
    expect(await groupNames(`members.value eq "${ids.get(CAROL)}"`)).toEqual([]);
  });

  test("not (members pr) finds no group here; displayName co finds both", async () => {
    expect(await groupNames("not (members pr)")).toEqual([]);
    expect(await groupNames('displayName co "a"')).toEqual(["Engineering Team", "Sales"]);
  });
});
