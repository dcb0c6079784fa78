// Every way a SCIM request can fail answers in RFC 7644 §3.12's error form, with the status and
// scimType a client can act on, the headers RFC 6750/6585 ask for, and never a leak of internals.
import http from "node:http";
import net from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { scimClient, startScimHarness, type ScimClient, type ScimHarness, type ScimResponse } from "../support/scim-harness.ts";

const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

function expectScimError(response: ScimResponse, status: number, scimType?: string): void {
  const context = JSON.stringify(response.body);
  expect(response.status, context).toBe(status);
  expect(response.headers.get("content-type"), context).toMatch(/^application\/scim\+json/);
  expect(response.body.schemas, context).toEqual([ERROR]);
  expect(response.body.status, context).toBe(String(status));
  expect(typeof response.body.detail, context).toBe("string");
  expect(response.body.detail.length, context).toBeGreaterThan(0);
  if (scimType !== undefined) expect(response.body.scimType, context).toBe(scimType);
}

const userBody = (userName: string, extra: Record<string, unknown> = {}) => ({ schemas: [CORE], userName, ...extra });
const patchBody = (...Operations: object[]) => ({ schemas: [PATCH], Operations });

let harness: ScimHarness;
let client: ScimClient;
beforeAll(async () => {
  harness = await startScimHarness();
  client = await harness.tenant("err-main");
});
afterAll(() => harness?.close());

describe("401 without valid credentials, with WWW-Authenticate", () => {
  const expectUnauthorized = (response: ScimResponse) => {
    expectScimError(response, 401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
  };

  test("a request without a token", async () => {
    const response = await fetch(`${harness.scimUrl}/Users`, { headers: { accept: "application/scim+json" } });
    expectUnauthorized({ status: response.status, headers: response.headers, body: await response.json() });
  });

  test("a request with a token that was never issued", async () => {
    const stranger = scimClient(harness.scimUrl, `${client.token.slice(0, -4)}zzzz`, { connectionId: client.connectionId, accountSlug: "err-main" });
    expectUnauthorized(await stranger.get("/Users"));
    const garbage = scimClient(harness.scimUrl, "not-a-token", { connectionId: client.connectionId, accountSlug: "err-main" });
    expectUnauthorized(await garbage.get("/Users"));
  });

  test("a request with a revoked token, which worked before revocation", async () => {
    const revoked = await harness.tenant("err-revoked");
    expect((await revoked.get("/Users")).status).toBe(200);
    // as an operator revokes it (`idsync token revoke`): the admin API, which also forgets the verified token
    // (a revocation by another process arrives by NOTIFY: test/scim/token-cache.test.ts)
    const revocation = await fetch(`${harness.url}/admin/v1/connections/${revoked.connectionId}/tokens/revoke`, {
      method: "POST", headers: { authorization: `Bearer ${harness.adminToken}` },
    });
    expect(revocation.status).toBe(200);
    expectUnauthorized(await revoked.get("/Users"));
    expectUnauthorized(await revoked.post("/Users", userBody("after-revoke@example.com")));
  });
});

describe("404 for what does not exist", () => {
  test("an unknown UUID", async () => {
    expectScimError(await client.get(`/Users/${randomUUID()}`), 404);
    expectScimError(await client.get(`/Groups/${randomUUID()}`), 404);
    expectScimError(await client.delete(`/Users/${randomUUID()}`), 404);
  });

  test("an id that is not a UUID", async () => {
    expectScimError(await client.get("/Users/not-a-uuid"), 404);
    expectScimError(await client.put("/Users/12345", userBody("nobody@example.com")), 404);
    expectScimError(await client.patch("/Groups/not-a-uuid", patchBody({ op: "replace", path: "displayName", value: "x" })), 404);
  });

  test("removing a member by an id that is not a UUID: by filter it matches no member (204), in a value list it is refused (400 invalidValue); the members stay as they were", async () => {
    const group = (await client.post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Not-UUID removes" })).body.id;
    const member = (await client.post("/Users", userBody("kept-member@example.com"))).body.id;
    expect((await client.patch(`/Groups/${group}`, patchBody({ op: "add", path: "members", value: [{ value: member }] }))).status).toBe(204);
    expect((await client.patch(`/Groups/${group}`, patchBody({ op: "remove", path: 'members[value eq "not-a-uuid"]' }))).status).toBe(204);
    expectScimError(await client.patch(`/Groups/${group}`, patchBody({ op: "remove", path: "members", value: [{ value: "12345" }] })), 400, "invalidValue");
    expect((await client.get(`/Groups/${group}`)).body.members.map((m: { value: string }) => m.value)).toEqual([member]);
  });

  test("an unknown endpoint under /scim/v2", async () => {
    expectScimError(await client.get("/Widgets"), 404);
    expectScimError(await client.get(`/Widgets/${randomUUID()}`), 404);
  });
});

describe("400 and 409 for requests that cannot be applied", () => {
  test("409 uniqueness for a userName differing only in case", async () => {
    expect((await client.post("/Users", userBody("Dup@Example.com"))).status).toBe(201);
    expectScimError(await client.post("/Users", userBody("dup@example.COM")), 409, "uniqueness");
  });

  test("400 invalidSyntax for malformed JSON", async () => {
    const response = await client.request("POST", "/Users", '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ');
    expectScimError(response, 400, "invalidSyntax");
  });

  test("400 invalidSyntax for a JSON array body", async () => {
    expectScimError(await client.post("/Users", [userBody("array@example.com")]), 400, "invalidSyntax");
    const group = (await client.post("/Groups", { schemas: [GROUP], displayName: "Array target" })).body;
    expectScimError(await client.put(`/Groups/${group.id}`, [{ schemas: [GROUP], displayName: "x" }]), 400, "invalidSyntax");
  });

  test("400 invalidFilter for a filter that cannot be parsed or names an unknown attribute", async () => {
    expectScimError(await client.get(`/Users?filter=${encodeURIComponent("userName eq")}`), 400, "invalidFilter");
    expectScimError(await client.get(`/Users?filter=${encodeURIComponent('shoeSize eq "9"')}`), 400, "invalidFilter");
    expectScimError(await client.get(`/Users?filter=${encodeURIComponent("active gt true")}`), 400, "invalidFilter");
  });

  test("a filter that does not parse is explained in RFC 7644's terms, never in the parser library's", async () => {
    const cases: Array<[string, RegExp]> = [
      ["userName eq", /the comparison "userName eq" has no value/],
      ['userName xx "a"', /"xx" is not a SCIM operator/],
      ['(userName eq "a"', /parentheses do not pair up/],
      ['userName eq "a" and', /ends with "and"/],
      ["emails[type eq]", /the comparison "type eq" has no value/],
      ['userName eq "a', /quoted value is not closed/],
      ['userName eq "a" "b"', /expected comparisons of the form attribute operator value/],
    ];
    for (const [filter, reason] of cases) {
      const response = await client.get(`/Users?filter=${encodeURIComponent(filter)}`);
      expectScimError(response, 400, "invalidFilter");
      expect(response.body.detail, filter).toMatch(reason);
      expect(response.body.detail, filter).not.toMatch(/EOT|is not json|Unexpected token|valFilter|Bracket/);
    }
  });

  test("400 invalidValue for an attribute of the wrong type", async () => {
    expectScimError(await client.post("/Users", { schemas: [CORE], userName: 5 }), 400, "invalidValue");
  });

  test("400 invalidValue for a user without userName", async () => {
    expectScimError(await client.post("/Users", { schemas: [CORE], displayName: "No Name" }), 400, "invalidValue");
  });

  describe("group PATCH", () => {
    let groupId: string;
    beforeAll(async () => {
      const created = await client.post("/Groups", { schemas: [GROUP], displayName: "Patch target" });
      expect(created.status).toBe(201);
      groupId = created.body.id;
    });

    test("400 invalidPath for an attribute Groups do not have", async () => {
      expectScimError(await client.patch(`/Groups/${groupId}`, patchBody({ op: "replace", path: "nickName", value: "x" })), 400, "invalidPath");
    });

    test("400 mutability for removing the required displayName", async () => {
      expectScimError(await client.patch(`/Groups/${groupId}`, patchBody({ op: "remove", path: "displayName" })), 400, "mutability");
    });

    test("400 noTarget for a remove without a path", async () => {
      expectScimError(await client.patch(`/Groups/${groupId}`, patchBody({ op: "remove" })), 400, "noTarget");
    });

    test("a failed PATCH leaves the group unchanged", async () => {
      const after = await client.get(`/Groups/${groupId}`);
      expect(after.status).toBe(200);
      expect(after.body.displayName).toBe("Patch target");
    });
  });
});

describe("413 for a body over the limit", () => {
  let small: ScimHarness;
  beforeAll(async () => {
    small = await startScimHarness({ env: { IDSYNC_SCIM_BODY_LIMIT: "2048" } });
  });
  afterAll(() => small?.close());

  test("a POST larger than IDSYNC_SCIM_BODY_LIMIT is refused; one under it is accepted", async () => {
    const tenant = await small.tenant("err-small");
    expectScimError(await tenant.post("/Users", userBody("big@example.com", { title: "x".repeat(4096) })), 413);
    expect((await tenant.post("/Users", userBody("fits@example.com", { title: "x".repeat(512) }))).status).toBe(201);
    expect((await tenant.get(`/Users?filter=${encodeURIComponent('userName eq "big@example.com"')}`)).body.totalResults).toBe(0);
  });
});

describe("requests Node's HTTP parser refuses still answer in SCIM's form", () => {
  /** Sends raw bytes and reads the whole answer (the server closes the connection after a refusal). */
  async function raw(bytes: string): Promise<{ status: number; type: string; body: any }> {
    const url = new URL(harness.url);
    const socket = net.connect(Number(url.port), url.hostname);
    socket.end(bytes);
    let text = "";
    for await (const chunk of socket) text += chunk;
    const [head, body] = text.split("\r\n\r\n");
    return { status: Number(head!.split(" ")[1]), type: /content-type: ([^\r]+)/i.exec(head!)?.[1] ?? "", body: JSON.parse(body!) };
  }

  test("a filter too long for a request line is a 431 that points to POST /.search", async () => {
    // within the comparison limit, but over 16 KiB
    const filter = Array.from({ length: 90 }, (_, i) => `userName eq "${"u".repeat(200)}${i}@example.com"`).join(" or ");
    const response = await client.get(`/Users?filter=${encodeURIComponent(filter)}`);
    expectScimError(response, 431);
    expect(response.body.detail).toMatch(/POST \/\.search/);
    // the same filter in a body is answered
    const search = await client.post("/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter });
    expect(search.status).toBe(200);
  });

  test("bytes that are not HTTP are a 400, in SCIM's form on /scim/v2 and as a problem elsewhere", async () => {
    const scim = await raw("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
    expect(scim.status).toBe(400);
    expect(scim.type).toMatch(/^application\/scim\+json/);
    expect(scim.body).toMatchObject({ schemas: [ERROR], status: "400" });
    const admin = await raw("GET /admin/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
    expect(admin.status).toBe(400);
    expect(admin.type).toMatch(/^application\/problem\+json/);
    expect(admin.body).toMatchObject({ status: 400, title: "Bad Request" });
  });
});

describe("429 when a token exceeds its rate", () => {
  let limited: ScimHarness;
  beforeAll(async () => {
    limited = await startScimHarness({ env: { IDSYNC_SCIM_RATE_LIMIT: "1", IDSYNC_SCIM_RATE_BURST: "3" } });
  });
  afterAll(() => limited?.close());

  test("requests past the burst are refused with Retry-After, and other tokens are unaffected", async () => {
    const [noisy, quiet] = await Promise.all([limited.tenant("err-noisy"), limited.tenant("err-quiet")]);
    const allowed: ScimResponse[] = [];
    for (let i = 0; i < 3; i++) allowed.push(await noisy.get("/Users"));
    expect(allowed.map((r) => r.status)).toEqual([200, 200, 200]);
    // at one refill per second, at most one of five simultaneous requests can find a token
    const burst = await Promise.all(Array.from({ length: 5 }, () => noisy.get("/Users")));
    const refused = burst.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const response of refused) {
      expectScimError(response, 429);
      const retryAfter = Number(response.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
    }
    expect((await quiet.get("/Users")).status).toBe(200);
  });
});

describe("500 without internals when the database fails", () => {
  test("a read while the users table is missing is a 500, never a 404, and names no SQL", async () => {
    const existing = await client.post("/Users", userBody("outage@example.com"));
    expect(existing.status).toBe(201);
    const knex = harness.db.knex;
    await knex.raw("alter table idp_users rename to idp_users_away");
    let byId: ScimResponse, unknownId: ScimResponse, listed: ScimResponse;
    try {
      byId = await client.get(`/Users/${existing.body.id}`);
      unknownId = await client.get(`/Users/${randomUUID()}`);
      listed = await client.get(`/Users?filter=${encodeURIComponent('userName eq "outage@example.com"')}`);
    } finally {
      await knex.raw("alter table idp_users_away rename to idp_users");
    }
    for (const response of [byId, unknownId, listed]) {
      expectScimError(response, 500);
      expect(response.body.detail).not.toMatch(/idp_users|select|relation|from|where|sql|pg|knex/i);
      expect(JSON.stringify(response.body)).not.toMatch(/idp_users|stack|at \w+ \(/i);
    }
    expect((await client.get(`/Users/${existing.body.id}`)).status).toBe(200);
  });
});

describe("connections survive errors", () => {
  function send(agent: http.Agent, path: string): Promise<{ status: number; body: string; reusedSocket: boolean }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${harness.scimUrl}${path}`, {
        agent, headers: { authorization: `Bearer ${client.token}`, accept: "application/scim+json" },
      }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, reusedSocket: req.reusedSocket }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  test("a keep-alive connection carries a good request after a failed one", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const notFound = await send(agent, "/Users/not-a-uuid");
      expect(notFound.status).toBe(404);
      expect(JSON.parse(notFound.body).schemas).toEqual([ERROR]);
      const badFilter = await send(agent, `/Users?filter=${encodeURIComponent("(userName eq")}`);
      expect(badFilter.status).toBe(400);
      expect(badFilter.reusedSocket).toBe(true);
      const good = await send(agent, "/Users?count=1");
      expect(good.status).toBe(200);
      expect(good.reusedSocket).toBe(true);
      expect(JSON.parse(good.body).schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
    } finally {
      agent.destroy();
    }
  });
});
