// Hostile input, property-based: filters, PATCH/PUT/POST bodies, query strings and headers full of SQL
// metacharacters, unicode, NUL bytes, lone surrogates, deep nesting, huge values and wrong types, sent
// over HTTP to a real server. Every answer must be a SCIM 4xx or a correct 2xx, never a 5xx; a sentinel
// table proves no injected SQL ran; another tenant's data stays as it was; token guessing ends in 429.
// Short by default (CI); `SOAK=full` runs 20× the cases.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import fc from "fast-check";
import { startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";
import { AuthThrottle } from "../../src/accounts/auth-throttle.ts";

const FULL = process.env.SOAK === "full";
const runs = (n: number) => (FULL ? n * 20 : n);
const TIMEOUT = FULL ? 3_600_000 : 60_000; // per test

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const stats = { requests: 0, cases: 0, s2xx: 0, s4xx: 0, s5xx: 0, sentinel: "unchecked", guesses: 0, throttledAfter: -1, adminThrottledAfter: -1 };

/** The invariant for every answer: a correct 2xx or a SCIM-form 4xx, never a 5xx. */
function expectSane(response: ScimResponse, what: string): void {
  stats.requests++;
  const context = `${what} → ${response.status} ${JSON.stringify(response.body)?.slice(0, 600)}`;
  if (response.status >= 500) stats.s5xx++;
  else if (response.status >= 400) stats.s4xx++;
  else if (response.status >= 200 && response.status < 300) stats.s2xx++;
  expect(response.status, context).toBeGreaterThanOrEqual(200);
  expect(response.status, context).toBeLessThan(500);
  expect(response.status >= 300 && response.status < 400, context).toBe(false);
  if (response.status >= 400) {
    expect(String(response.headers.get("content-type")), context).toMatch(/^application\/scim\+json/);
    expect(response.body?.schemas, context).toEqual([ERROR]);
    expect(response.body.status, context).toBe(String(response.status));
    expect(typeof response.body.detail, context).toBe("string");
  } else if (response.status !== 204) {
    expect(String(response.headers.get("content-type")), context).toMatch(/^application\/scim\+json/);
    expect(typeof response.body, context).toBe("object");
  }
}

// ---------------------------------------------------------------------------------------------------
// generators

const INJECTIONS = [
  "'); drop table soak_sentinel; --",
  "' or 1=1 --",
  "\" or 1=1 --",
  "x' or '1'='1",
  "'; select pg_sleep(5); --",
  "' || pg_sleep(5) || '",
  "1) or pg_sleep(5) is null or (1",
  "'; delete from users; --",
  "'; update users set active = false; --",
  "$1", "$$", "$tag$ drop table soak_sentinel $tag$", "::text", "/*", "*/", "--", ";",
  "%", "_", "%%", "\\", "\\%", "\\'", "'", "\"", "''", "\\u0000",
  "\u0000", "a\u0000b", "\u0000'; drop table soak_sentinel; --",
  "\ud800", "\udfff", "x\ud83dy", "\ufeff", "\u202e", "🙂", "Ωmega", "ﬁ", "İ", "ß", "\u0301",
  "null", "true", "false", "[]", "{}", "NaN", "Infinity", "-0", "1e309",
  "eq", "and", "or", "not", "pr", "(", ")", "[", "]", "\"\"",
  "urn:ietf:params:scim:schemas:core:2.0:User:userName",
];

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 2, arbitrary: loneSurrogates },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...INJECTIONS), fc.string({ maxLength: 10 }), fc.constantFrom(...INJECTIONS)).map((p) => p.join("")) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("a", "'", "\u0000", "é", "🙂"), fc.integer({ min: 1_000, max: 300_000 })).map(([c, n]) => c.repeat(n)) },
);

const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null, 0, -1, 2 ** 53, 1e308, -1e308) },
);

/** JSON nested `depth` deep, as arrays or objects. */
const deepValue = fc.tuple(fc.integer({ min: 50, max: 1_000 }), fc.boolean(), hostileScalar).map(([depth, arrays, leaf]) => {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { value };
  return value;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 2, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.oneof(hostileString, fc.constantFrom("value", "display", "type", "primary", "$ref", "givenName", "familyName", "userName", "displayName", "members", "emails", "active", "id", "meta", "schemas", "__proto__", "constructor")), hostileScalar, { maxKeys: 5 }) },
  { weight: 2, arbitrary: fc.array(fc.record({ value: hostileScalar, type: hostileScalar, primary: hostileScalar, display: hostileScalar }, { requiredKeys: [] }), { maxLength: 4 }) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);

const USER_ATTRIBUTES = [
  "userName", "displayName", "nickName", "title", "externalId", "id", "active", "name", "name.givenName", "name.familyName",
  "emails", "emails.value", "emails.type", "emails.primary", "emails[type eq \"work\"].value", "phoneNumbers.value",
  "meta.created", "meta.lastModified", "meta.resourceType", "groups", "groups.value", "addresses.locality",
  `${ENTERPRISE}:department`, `${ENTERPRISE}:manager.value`, `${CORE}:userName`, "nope", "emails.nope", "a.b.c.d", "",
];
const GROUP_ATTRIBUTES = ["displayName", "externalId", "id", "members", "members.value", "members.display", "meta.created", "meta.lastModified", `${GROUP}:displayName`, "nope"];
const attribute = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES) }, { weight: 1, arbitrary: hostileString });
const compareOp = fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co", "xx");
const literal = fc.oneof(
  { weight: 5, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: hostileString.map((s) => `"${s}"`) }, // unescaped: broken quoting on purpose
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null", "42", "-1.5e10", "1e999", "\"2024-01-01T00:00:00Z\"", "\"not-a-date\"", "\"+275760-09-13T00:00:00Z\"") },
  { weight: 1, arbitrary: hostileString }, // bare, unquoted
);

const filterExpr: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.tuple(attribute, compareOp, literal).map(([a, o, l]) => `${a} ${o} ${l}`),
    attribute.map((a) => `${a} pr`),
    fc.tuple(fc.constantFrom("emails", "members", "groups", "phoneNumbers", "userName"), attribute, compareOp, literal).map(([p, a, o, l]) => `${p}[${a} ${o} ${l}]`),
    fc.tuple(tie("f"), fc.constantFrom("and", "or", "AND", "Or"), tie("f")).map(([a, j, b]) => `${a} ${j} ${b}`),
    tie("f").map((a) => `not (${a})`),
    tie("f").map((a) => `(${a})`),
  ),
})).f;

const nestedFilter = fc.tuple(fc.integer({ min: 10, max: 5_000 }), fc.constantFrom("(", "not (", "emails[", "("), filterExpr)
  .map(([n, open, inner]) => `${open.repeat(n)}${inner}${(open === "emails[" ? "]" : ")").repeat(n)}`);
const longChain = fc.tuple(fc.integer({ min: 10, max: 3_000 }), filterExpr.filter((f) => f.length < 300), fc.constantFrom(" and ", " or "))
  .map(([n, f, j]) => Array.from({ length: n }, () => f).join(j));
const garbageFilter = fc.oneof(fc.string({ maxLength: 80 }), loneSurrogates, fc.constantFrom(...INJECTIONS));
const anyFilter = fc.oneof({ weight: 6, arbitrary: filterExpr }, { weight: 1, arbitrary: nestedFilter }, { weight: 1, arbitrary: longChain }, { weight: 2, arbitrary: garbageFilter });

/** A query-string value, as text to be percent-encoded (or not, sometimes). */
const queryValue = fc.oneof(
  hostileString,
  fc.constantFrom("0", "-1", "1", "1000", "1001", "99999999999999999999", "1.5", "1e3", "0x10", "", " ", "NaN", "Infinity", "-0", "ascending", "descending", "DESC"),
  fc.integer().map(String),
  attribute,
);
const QUERY_KEYS = ["filter", "count", "startIndex", "attributes", "excludedAttributes", "sortBy", "sortOrder", "filter[x]", "count[]", "__proto__", "constructor[prototype]", "x"];
const queryString = fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue, fc.boolean()), { minLength: 1, maxLength: 6 })
  .map((pairs) => pairs.map(([k, v, encode]) => `${encodeURIComponent(k)}=${encode ? safeEncode(v) : rawish(v)}`).join("&"));

function safeEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, "\ufffd")) + "%ED%A0%80"; // a lone surrogate's bytes: invalid UTF-8
  }
}
/** Leaves URL-significant characters raw where fetch can carry them: %, ', ", ( … */
function rawish(value: string): string {
  return safeEncode(value).replace(/%25/g, "%").replace(/%27/g, "'").replace(/%28/g, "(").replace(/%29/g, ")").replace(/%3D/g, "=").replace(/%26/g, "&");
}

const patchOp = fc.record({
  op: fc.oneof({ weight: 5, arbitrary: fc.constantFrom("add", "replace", "remove", "Add", "Replace", "REMOVE") }, { weight: 1, arbitrary: hostileValue }),
  path: fc.oneof(
    { weight: 4, arbitrary: attribute },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom("members", "emails", "phoneNumbers", "roles", "addresses"), filterExpr, fc.option(fc.constantFrom("value", "type", "display", "primary"))).map(([p, f, s]) => `${p}[${f}]${s ? `.${s}` : ""}`) },
    { weight: 1, arbitrary: hostileValue },
  ),
  value: hostileValue,
}, { requiredKeys: ["op"] });

const patchMessage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ schemas: fc.oneof({ weight: 5, arbitrary: fc.constant([PATCH]) }, { weight: 1, arbitrary: hostileValue }), Operations: fc.array(patchOp, { minLength: 0, maxLength: 4 }) }, { requiredKeys: ["Operations"] }) },
  { weight: 1, arbitrary: fc.record({ schemas: fc.constant([PATCH]), Operations: hostileValue }) },
  { weight: 1, arbitrary: hostileValue },
);

const userBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    schemas: fc.oneof({ weight: 4, arbitrary: fc.constant([CORE]) }, { weight: 1, arbitrary: fc.constant([CORE, ENTERPRISE]) }, { weight: 1, arbitrary: hostileValue }),
    userName: fc.oneof({ weight: 3, arbitrary: hostileString.map((s) => `${s}@soak.example`) }, { weight: 2, arbitrary: hostileValue }),
    name: hostileValue, displayName: hostileValue, active: hostileValue, emails: hostileValue, externalId: hostileValue,
    title: hostileValue, groups: hostileValue, id: hostileValue, meta: hostileValue,
    [ENTERPRISE]: fc.oneof(fc.record({ department: hostileValue, manager: hostileValue }, { requiredKeys: [] }), hostileValue),
  }, { requiredKeys: ["schemas"] }) },
  { weight: 1, arbitrary: hostileValue },
);

const groupBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    schemas: fc.oneof({ weight: 4, arbitrary: fc.constant([GROUP]) }, { weight: 1, arbitrary: hostileValue }),
    displayName: fc.oneof(hostileString, hostileValue),
    externalId: hostileValue,
    members: hostileValue,
  }, { requiredKeys: ["schemas"] }) },
  { weight: 1, arbitrary: hostileValue },
);

// ---------------------------------------------------------------------------------------------------

let harness: ScimHarness;
let client: ScimClient;
let other: ScimClient;
let userId: string;
let groupId: string;
let otherBefore: string;

async function snapshotOther(): Promise<string> {
  const users = await other.get("/Users?count=1000&sortBy=userName");
  const groups = await other.get("/Groups?count=1000&sortBy=displayName");
  expect(users.status).toBe(200);
  expect(groups.status).toBe(200);
  return JSON.stringify([users.body, groups.body]);
}

const send = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => client.request(method, path, body === undefined ? undefined : JSON.stringify(body), headers);

beforeAll(async () => {
  // the per-token rate limit is not under test here; the fuzzing runs far faster than any IdP
  harness = await startScimHarness({ env: { IDSYNC_SCIM_RATE_LIMIT: "1000000", IDSYNC_SCIM_RATE_BURST: "10000000" } });
  await harness.db.knex.raw("create table soak_sentinel (id int)");
  await harness.db.knex.raw("insert into soak_sentinel (id) values (1)");
  client = await harness.tenant("soak-main");
  other = await harness.tenant("soak-other");
  for (const tenant of [client, other]) {
    for (const name of ["alice", "bob", "o'brien"]) {
      const created = await tenant.post("/Users", { schemas: [CORE], userName: `${name}@${tenant.accountSlug}.example.com`, name: { givenName: name, familyName: "Soak" }, emails: [{ type: "work", value: `${name}@${tenant.accountSlug}.example.com`, primary: true }] });
      expect(created.status).toBe(201);
      if (tenant === client && name === "alice") userId = created.body.id;
    }
    const group = await tenant.post("/Groups", { schemas: [GROUP], displayName: `staff-${tenant.accountSlug}` });
    expect(group.status).toBe(201);
    if (tenant === client) groupId = group.body.id;
  }
  otherBefore = await snapshotOther();
});

afterAll(async () => {
  if (!harness) return;
  const rows = await harness.db.knex.raw("select id from soak_sentinel");
  const list = (rows.rows ?? rows) as Array<{ id: number }>;
  stats.sentinel = list.length === 1 && list[0]!.id === 1 ? "intact" : "DAMAGED";
  console.log(`SOAK hostile-input: mode=${FULL ? "full" : "short"} requests=${stats.requests} cases=${stats.cases} 2xx=${stats.s2xx} 4xx=${stats.s4xx} 5xx=${stats.s5xx} sentinel=${stats.sentinel} guesses=${stats.guesses} throttled_after=${stats.throttledAfter} admin_throttled_after=${stats.adminThrottledAfter}`);
  await harness.close();
});

describe("hostile input never gets a 5xx", { timeout: TIMEOUT }, () => {
  test("filters on Users and Groups: hostile literals in valid grammar, deep nesting, long chains, garbage", async () => {
    await fc.assert(fc.asyncProperty(anyFilter, fc.constantFrom("Users", "Groups"), fc.boolean(), async (filter, endpoint, viaSearch) => {
      stats.cases++;
      // a request line and headers stay within node's 16 KiB header limit (beyond it node answers 431 itself,
      // before the application sees the request); longer filters go in a /.search body
      const encoded = safeEncode(filter);
      if (viaSearch || encoded.length > 12_000) {
        expectSane(await send("POST", `/${endpoint}/.search`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter, count: 5 }), `.search ${filter.slice(0, 200)}`);
      } else {
        const response = await client.get(`/${endpoint}?filter=${encoded}&count=5`);
        expectSane(response, `GET ${endpoint} filter=${filter.slice(0, 200)}`);
        if (response.status === 200) expect(response.body.schemas).toEqual([LIST]);
      }
    }), { numRuns: runs(150) });
  });

  test("query strings: count, startIndex, attributes, sortBy, sortOrder with hostile and repeated values", async () => {
    await fc.assert(fc.asyncProperty(queryString, fc.constantFrom("/Users", "/Groups", "/Users/USER", "/Groups/GROUP"), async (query, path) => {
      stats.cases++;
      fc.pre(query.length < 12_000); // within node's header limit, see above
      const target = path.replace("USER", userId).replace("GROUP", groupId);
      const response = await client.get(`${target}?${query}`);
      expectSane(response, `GET ${target}?${query.slice(0, 300)}`);
    }), { numRuns: runs(150) });
  });

  test("PATCH messages on a User and a Group", async () => {
    await fc.assert(fc.asyncProperty(patchMessage, fc.constantFrom("Users", "Groups"), async (message, endpoint) => {
      stats.cases++;
      const id = endpoint === "Users" ? userId : groupId;
      expectSane(await send("PATCH", `/${endpoint}/${id}`, message), `PATCH ${endpoint} ${JSON.stringify(message)?.slice(0, 300)}`);
    }), { numRuns: runs(200) });
    // the user and group are still readable afterwards
    expectSane(await client.get(`/Users/${userId}`), "GET user after PATCH fuzz");
    expectSane(await client.get(`/Groups/${groupId}`), "GET group after PATCH fuzz");
  });

  test("POST and PUT bodies for Users and Groups", async () => {
    await fc.assert(fc.asyncProperty(fc.boolean(), userBody, groupBody, fc.constantFrom("POST", "PUT"), async (users, uBody, gBody, method) => {
      stats.cases++;
      const body = users ? uBody : gBody;
      const endpoint = users ? "Users" : "Groups";
      const path = method === "POST" ? `/${endpoint}` : `/${endpoint}/${users ? userId : groupId}`;
      const response = await send(method, path, body);
      expectSane(response, `${method} ${path} ${JSON.stringify(body)?.slice(0, 300)}`);
      if (response.status === 201) {
        expect(typeof response.body.id).toBe("string");
        // keep the tenant small: what was created is deleted again
        expectSane(await client.delete(`/${endpoint}/${response.body.id}`), "DELETE created");
      }
    }), { numRuns: runs(200) });
  });

  test("hostile ids in the path", async () => {
    await fc.assert(fc.asyncProperty(hostileString, fc.constantFrom("GET", "PUT", "PATCH", "DELETE"), fc.constantFrom("Users", "Groups"), async (id, method, endpoint) => {
      stats.cases++;
      const body = method === "PATCH" ? { schemas: [PATCH], Operations: [{ op: "replace", path: "displayName", value: "x" }] } : method === "PUT" ? { schemas: [CORE], userName: "x@soak.example" } : undefined;
      const encoded = safeEncode(id.slice(0, 2_000));
      if (encoded === "") return;
      expectSane(await send(method, `/${endpoint}/${encoded}`, body), `${method} /${endpoint}/${encoded.slice(0, 200)}`);
    }), { numRuns: runs(60) });
  });

  test("headers: content types, charsets, encodings, huge headers, odd accept and if-match", async () => {
    const contentTypes = fc.constantFrom(
      "application/scim+json", "application/json", "application/scim+json; charset=utf-8", "application/scim+json; charset=\"UTF-8\"",
      "application/scim+json; charset=latin1", "application/json; charset=utf-16", "application/json; charset=x-nope", "text/plain",
      "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml", "", "*/*", "application/scim+json;;;",
      "application/json; charset=utf-8; charset=latin1", "APPLICATION/SCIM+JSON", "application/scim+json\t",
    );
    const bodies = fc.oneof(
      patchMessage.map((m) => JSON.stringify(m)),
      fc.constantFrom("", "{", "}", "null", "[]", "\"str\"", "42", "{\"schemas\":", "\u0000", "a=b&c=d", "<xml/>", "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"displayName\":\"\\u0000\"}}]}"),
      hostileString,
    );
    const headerValue = fc.oneof(fc.string({ unit: "grapheme-ascii", maxLength: 60 }), fc.integer({ min: 1, max: 3_000 }).map((n) => "h".repeat(n))); // 4 of them stay within node's 16 KiB
    await fc.assert(fc.asyncProperty(
      contentTypes, bodies, fc.constantFrom("PATCH", "POST", "PUT"), fc.constantFrom("Users", "Groups"),
      fc.record({
        accept: fc.constantFrom("application/scim+json", "application/json", "text/html", "*/*", "application/xml", ""),
        "if-match": headerValue, "if-none-match": headerValue, "x-request-id": headerValue, "x-filler": headerValue,
        "content-encoding": fc.constantFrom("gzip", "deflate", "br", "identity", "nope"),
        "x-http-method-override": fc.constantFrom("DELETE", "GET"),
      }, { requiredKeys: [] }),
      async (contentType, body, method, endpoint, headers) => {
        stats.cases++;
        const path = method === "POST" ? `/${endpoint}` : `/${endpoint}/${endpoint === "Users" ? userId : groupId}`;
        const response = await client.request(method, path, body, { ...headers, "content-type": contentType });
        expectSane(response, `${method} ${path} content-type=${contentType} headers=${JSON.stringify(headers).slice(0, 200)} body=${body.slice(0, 200)}`);
        if (response.status === 201) await client.delete(`/${endpoint}/${response.body.id}`);
      },
    ), { numRuns: runs(150) });
  });

  // named examples: cases the properties found, kept so they run every time
  describe("found by the properties", () => {
    test("a NUL byte in a filter literal", async () => {
      expectSane(await client.get(`/Users?filter=${encodeURIComponent('userName eq "a\u0000b"')}`), "NUL in filter");
    });
    test("a NUL byte in a POSTed userName and a PATCHed displayName", async () => {
      expectSane(await send("POST", "/Users", { schemas: [CORE], userName: "nul\u0000@soak.example" }), "NUL in userName");
      expectSane(await send("PATCH", `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "displayName", value: "a\u0000b" }] }), "NUL in group displayName");
    });
    test("a userName too large for its index", async () => {
      expectSane(await send("POST", "/Users", { schemas: [CORE], userName: `${"a".repeat(300_000)}@soak.example` }), "huge userName");
    });
    test("a filter nested 1000 levels deep (PostgreSQL's stack depth limit)", async () => {
      const deep = `${"not (".repeat(1_000)}userName eq "x"${")".repeat(1_000)}`;
      const response = await send("POST", "/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: deep });
      expectSane(response, "not (× 1000");
      expect(response.body.scimType).toBe("invalidFilter");
      expectSane(await client.get(`/Groups?filter=${encodeURIComponent(`${"(".repeat(2_000)}displayName pr${")".repeat(2_000)}`)}`), "( × 2000");
    });
    test("a pg_sleep literal is data, not SQL: it finds the user named by it", async () => {
      const userName = "' || pg_sleep(5) || '@named.example";
      const created = await send("POST", "/Users", { schemas: [CORE], userName });
      expectSane(created, "pg_sleep userName");
      const found = await client.get(`/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)}`);
      expectSane(found, "pg_sleep");
      expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([created.body.id]);
    });
    test("ANDed conditions on members beyond the limit are refused at once (they ran for minutes, then PGlite's backend exited)", async () => {
      const chain = Array.from({ length: 159 }, () => 'members.display eq ""').join(" and ");
      const response = await client.get(`/Groups?filter=${encodeURIComponent(chain)}`);
      expectSane(response, "members.display × 159");
      expect(response.body.scimType).toBe("invalidFilter");
    });
    test("a filter too long for the request line is a SCIM 431", async () => {
      const response = await client.get(`/Users?filter=${encodeURIComponent(`userName eq "${"'".repeat(20_000)}"`)}`);
      expectSane(response, "20,000 quotes");
      expect(response.status).toBe(431);
    });
  });

  test("afterwards: the sentinel table and row exist, the other tenant is unchanged", async () => {
    const rows = await harness.db.knex.raw("select id from soak_sentinel");
    expect((rows.rows ?? rows) as unknown[]).toEqual([{ id: 1 }]);
    expect(await snapshotOther()).toBe(otherBefore);
    // and the fuzzed tenant still answers normally
    const list = await client.get("/Users?count=1000");
    expect(list.status).toBe(200);
    expect(list.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(expect.arrayContaining(["bob@soak-main.example.com", "o'brien@soak-main.example.com"]));
  });
});

describe("token guessing is rate-limited", { timeout: TIMEOUT }, () => {
  let guessHarness: ScimHarness;
  let valid: ScimClient;
  beforeAll(async () => {
    guessHarness = await startScimHarness();
    valid = await guessHarness.tenant("soak-guess");
  });
  afterAll(() => guessHarness?.close());

  const wrongAuthorization = fc.oneof(
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 80 }).map((t) => `Bearer ${t.replace(/\s/g, "x")}`),
    fc.base64String({ minLength: 4, maxLength: 64 }).map((t) => `Bearer ${t}`),
    fc.constantFrom("Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Token abc", "bearer\tabc", "Negotiate xyz", "Bearer a b", "Bearer ' or 1=1 --", "Digest username=\"x\""),
    fc.integer({ min: 100, max: 8_000 }).map((n) => `Bearer ${"x".repeat(n)}`),
  );

  /**
   * Sends random wrong tokens until the answer is 429, checking each answer with `check`. At most 20
   * guesses may be answered 401 first, and the 429 must say when to retry.
   */
  async function guessUntilThrottled(url: string, check: (response: Response, authorization: string) => Promise<void>): Promise<{ failures: number; throttled: Response }> {
    let failures = 0;
    for (const authorization of fc.sample(wrongAuthorization, runs(200))) {
      stats.guesses++;
      const response = await fetch(url, { headers: { authorization, accept: "application/scim+json" } });
      await check(response, authorization);
      if (response.status === 429) {
        expect(failures).toBeLessThanOrEqual(20);
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        return { failures, throttled: response };
      }
      expect(response.status).toBe(401);
      failures++;
    }
    throw new Error(`no 429 after ${failures} wrong tokens`);
  }

  test("valid traffic from a client that never fails is not throttled", async () => {
    for (let i = 0; i < 60; i++) expect((await valid.get("/Users?count=1")).status).toBe(200);
  });

  test("random wrong bearer tokens on /scim/v2 end in 429 with Retry-After", async () => {
    const { failures } = await guessUntilThrottled(`${guessHarness.scimUrl}/Users`, async (response, authorization) => {
      expectSane({ status: response.status, headers: response.headers, body: await response.json() }, `guess ${authorization.slice(0, 60)}`);
    });
    stats.throttledAfter = failures;
    // while throttled, even the right token from this client waits: a guess cannot succeed
    expect((await valid.get("/Users")).status).toBe(429);
    // a second later one more attempt is allowed, then throttled again
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await valid.get("/Users?count=1")).status).toBe(200);
    const again = await fetch(`${guessHarness.scimUrl}/Users`, { headers: { authorization: "Bearer wrong-again" } });
    expect(again.status).toBe(401);
    expect((await fetch(`${guessHarness.scimUrl}/Users`, { headers: { authorization: "Bearer wrong-again" } })).status).toBe(429);
  });

  test("random wrong bearer tokens on /admin/v1 end in 429 problem+json with Retry-After", async () => {
    const { failures, throttled } = await guessUntilThrottled(`${guessHarness.url}/admin/v1/accounts`, async (response) => {
      stats.requests++;
      stats.s4xx++;
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    });
    stats.adminThrottledAfter = failures;
    expect(((await throttled.json()) as { status: number }).status).toBe(429);
  });
});

describe("AuthThrottle", () => {
  test("only failures drain a client's bucket; it refills at the configured rate; clients are independent", async () => {
    let now = 0;
    const throttle = new AuthThrottle({ burst: 3, refillPerSecond: 1, maxClients: 2 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(await throttle.retryAfter("a")).toBe(0);
      await throttle.fail("a");
    }
    expect(await throttle.retryAfter("a")).toBe(1);
    expect(await throttle.retryAfter("b")).toBe(0);
    now += 1_000;
    expect(await throttle.retryAfter("a")).toBe(0);
    await throttle.fail("a");
    expect(await throttle.retryAfter("a")).toBe(1);
    // beyond maxClients the longest-idle client is forgotten
    await throttle.fail("b");
    await throttle.fail("c");
    now += 0;
    expect(await throttle.retryAfter("a")).toBe(0);
  });
});
