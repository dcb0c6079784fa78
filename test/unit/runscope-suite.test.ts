import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compare, encodeUrl, formatFailure, initialVariables, readProperty, runSuite, substitute, type RunscopeSuite,
} from "../conformance/runscope-suite.ts";

describe("substitute", () => {
  it("replaces known {{vars}} everywhere and leaves unknown placeholders intact", () => {
    const vars = { SCIMBaseURL: "http://h/scim/v2", auth: "Bearer x", id: "42" };
    expect(substitute("{{SCIMBaseURL}}/Users/{{id}}", vars)).toBe("http://h/scim/v2/Users/42");
    expect(substitute("{{ auth }}|{{id}}{{id}}", vars)).toBe("Bearer x|4242");
    expect(substitute("{{missing}} stays", vars)).toBe("{{missing}} stays");
  });
});

describe("initialVariables", () => {
  it("builds the Okta initial-script variables with the documented shapes", () => {
    const v = initialVariables("http://h/scim/v2/", "Bearer t");
    expect(v.SCIMBaseURL).toBe("http://h/scim/v2");
    expect(v.auth).toBe("Bearer t");
    expect(v.randomGivenName).toMatch(/^Runscope\d{3}$/);
    expect(v.randomFamilyName).toMatch(/^[A-Z][a-z]{8}\d{3}$/);
    expect(v.randomEmail).toBe(`${v.randomGivenName}${v.randomFamilyName}@atko.com`);
    expect(v.randomUsername).toBe(v.randomEmail);
    expect(v.randomUsernameCaps).toBe(v.randomEmail?.toUpperCase());
    expect(v.InvalidUserEmail).toBe("abcdefgh@atko.com");
    expect(v.UserIdThatDoesNotExist).toBe("010101001010101011001010101011");
  });
});

describe("readProperty", () => {
  const body = {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    totalResults: 1,
    Resources: [{ id: "u1", active: false, name: { familyName: "Doe" }, emails: [{ value: "a@b.c" }] }],
  };
  it("follows dotted names and [n] indexes", () => {
    expect(readProperty(body, "Resources[0].emails[0].value")).toBe("a@b.c");
    expect(readProperty(body, "Resources[0].name.familyName")).toBe("Doe");
    expect(readProperty(body, "Resources[0].active")).toBe(false);
    expect(readProperty(body, "schemas")).toEqual(body.schemas);
    expect(readProperty(body, "totalResults")).toBe(1);
  });
  it("returns undefined for missing paths and the root for an empty path", () => {
    expect(readProperty(body, "Resources[3].id")).toBeUndefined();
    expect(readProperty(body, "Resources[0].name.givenName")).toBeUndefined();
    expect(readProperty(body, "totalResults.x")).toBeUndefined();
    expect(readProperty(undefined, "id")).toBeUndefined();
    expect(readProperty(body, "")).toBe(body);
    expect(readProperty([{ id: 7 }], "[0].id")).toBe(7);
  });
});

describe("compare", () => {
  it("equal compares as strings: '401' equals 401 and 'true' equals true", () => {
    expect(compare("equal", 401, "401")).toBe(true);
    expect(compare("equal", "401", "401")).toBe(true);
    expect(compare("equal", true, "true")).toBe(true);
    expect(compare("equal", false, "true")).toBe(false);
    expect(compare("equal", 0, "0")).toBe(true);
    expect(compare("equal", "abc", "abd")).toBe(false);
    expect(compare("equal", undefined, "undefined")).toBe(false);
    expect(compare("equal", null, "null")).toBe(false);
  });
  it("equal_number compares numerically and rejects non-numbers", () => {
    expect(compare("equal_number", 200, "200")).toBe(true);
    expect(compare("equal_number", "0", "0")).toBe(true);
    expect(compare("equal_number", 201, "200")).toBe(false);
    expect(compare("equal_number", "abc", "0")).toBe(false);
    expect(compare("equal_number", 0, "zero")).toBe(false);
    expect(compare("equal_number", false, "0")).toBe(false);
  });
  it("not_empty fails only for null, undefined, blank strings, [] and {}", () => {
    expect(compare("not_empty", false, null)).toBe(true);
    expect(compare("not_empty", true, null)).toBe(true);
    expect(compare("not_empty", 0, null)).toBe(true);
    expect(compare("not_empty", "x", null)).toBe(true);
    expect(compare("not_empty", [1], null)).toBe(true);
    expect(compare("not_empty", { a: 1 }, null)).toBe(true);
    expect(compare("not_empty", "", null)).toBe(false);
    expect(compare("not_empty", "  ", null)).toBe(false);
    expect(compare("not_empty", [], null)).toBe(false);
    expect(compare("not_empty", {}, null)).toBe(false);
    expect(compare("not_empty", null, null)).toBe(false);
    expect(compare("not_empty", undefined, null)).toBe(false);
  });
  it("has_value finds an array element equal as a string", () => {
    const schemas = ["urn:ietf:params:scim:api:messages:2.0:Error"];
    expect(compare("has_value", schemas, "urn:ietf:params:scim:api:messages:2.0:Error")).toBe(true);
    expect(compare("has_value", schemas, "urn:ietf:params:scim:api:messages:2.0:ListResponse")).toBe(false);
    expect(compare("has_value", [1, 2], "2")).toBe(true);
    expect(compare("has_value", "urn:ietf:params:scim:api:messages:2.0:Error", "urn")).toBe(false);
    expect(compare("has_value", undefined, "x")).toBe(false);
  });
  it("contains is substring on strings and element membership on arrays", () => {
    expect(compare("contains", "hello world", "lo w")).toBe(true);
    expect(compare("contains", "hello", "xyz")).toBe(false);
    expect(compare("contains", ["urn:ietf:params:scim:schemas:core:2.0:User"], "urn:ietf:params:scim:schemas:core:2.0:User")).toBe(true);
    expect(compare("contains", ["a", "b"], "c")).toBe(false);
    expect(compare("contains", undefined, "x")).toBe(false);
  });
  it("is_a_number accepts numbers and numeric strings only", () => {
    expect(compare("is_a_number", 3, null)).toBe(true);
    expect(compare("is_a_number", 0, null)).toBe(true);
    expect(compare("is_a_number", "12.5", null)).toBe(true);
    expect(compare("is_a_number", "abc", null)).toBe(false);
    expect(compare("is_a_number", "", null)).toBe(false);
    expect(compare("is_a_number", true, null)).toBe(false);
    expect(compare("is_a_number", undefined, null)).toBe(false);
    expect(compare("is_a_number", [1], null)).toBe(false);
  });
  it("is_less_than compares numerically and is strict", () => {
    expect(compare("is_less_than", 120, "600")).toBe(true);
    expect(compare("is_less_than", 600, "600")).toBe(false);
    expect(compare("is_less_than", 1200, "600")).toBe(false);
    expect(compare("is_less_than", "90", "600")).toBe(true);
    expect(compare("is_less_than", undefined, "600")).toBe(false);
  });
  it("an unknown comparison always fails", () => {
    expect(compare("is_shiny", "x", "x")).toBe(false);
  });
});

describe("encodeUrl", () => {
  it("percent-encodes raw spaces and quotes in a substituted filter URL", () => {
    const raw = substitute('{{SCIMBaseURL}}/Users?filter=userName eq "a@b.c"', { SCIMBaseURL: "http://127.0.0.1:8080/scim/v2" });
    expect(encodeUrl(raw)).toBe("http://127.0.0.1:8080/scim/v2/Users?filter=userName%20eq%20%22a@b.c%22");
  });
  it("does not double-encode existing escapes and encodes stray % and non-ASCII", () => {
    expect(encodeUrl("http://h/Users?filter=userName%20eq%20%22x%22")).toBe("http://h/Users?filter=userName%20eq%20%22x%22");
    const once = encodeUrl("http://h/Users?filter=a eq 'é#1' and 100%");
    expect(once).toBe("http://h/Users?filter=a%20eq%20%27%C3%A9%231%27%20and%20100%25");
    expect(encodeUrl(once)).toBe(once);
    expect(encodeUrl("http://h/Users?count=1&startIndex=1")).toBe("http://h/Users?count=1&startIndex=1");
  });
});

describe("formatFailure", () => {
  it("names the step, property, comparison, expected and actual", () => {
    const line = formatFailure({ step: 4, note: "n", source: "response_json", property: "status", comparison: "equal", expected: "404", actual: 500 });
    expect(line).toContain("step 4");
    expect(line).toContain("status equal");
    expect(line).toContain('expected "404"');
    expect(line).toContain("actual 500");
  });
});

describe("runSuite", () => {
  const seen: { url: string; auth: string | undefined; method: string; body: string }[] = [];
  let server: Server;
  let baseUrl = "";

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ url: req.url ?? "", auth: req.headers.authorization, method: req.method ?? "", body });
        res.setHeader("Content-Type", "application/scim+json");
        if (req.url?.startsWith("/scim/v2/Users?")) {
          res.end(JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: 1, Resources: [{ id: "abc123", userName: "a@b.c" }] }));
        } else if (req.url === "/scim/v2/Users/abc123") {
          res.end(JSON.stringify({ id: "abc123", userName: "a@b.c" }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "404", detail: "not found" }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const suite: RunscopeSuite = {
    name: "tiny",
    steps: [
      {
        step_type: "request", method: "GET", note: "list",
        url: '{{SCIMBaseURL}}/Users?filter=userName eq "{{InvalidUserEmail}}"',
        headers: { Authorization: ["{{auth}}"], Accept: ["application/scim+json"] },
        assertions: [{ source: "response_status", comparison: "equal_number", value: "200" }],
        variables: [{ source: "response_json", property: "Resources[0].id", name: "capturedId" }],
      },
      { step_type: "pause", duration: 5 },
      { step_type: "request", skipped: true, method: "DELETE", url: "{{SCIMBaseURL}}/Users/{{capturedId}}" },
      {
        step_type: "request", method: "GET", note: "get by captured id",
        url: "{{SCIMBaseURL}}/Users/{{capturedId}}",
        headers: { Authorization: ["{{auth}}"] },
        assertions: [
          { source: "response_json", property: "id", comparison: "equal", value: "{{capturedId}}" },
          { source: "response_json", property: "userName", comparison: "equal", value: "someone-else@b.c" },
        ],
      },
    ],
  };

  it("sends encoded requests, skips pauses and skipped steps, captures variables and counts each assertion once", async () => {
    const lines: string[] = [];
    const result = await runSuite({ suite, baseUrl, auth: "Bearer tok", log: (l) => lines.push(l) });
    expect(result.passed).toBe(2);
    expect(result.failed).toBe(1);
    expect(seen.map((s) => s.url)).toEqual([
      "/scim/v2/Users?filter=userName%20eq%20%22abcdefgh@atko.com%22",
      "/scim/v2/Users/abc123",
    ]);
    expect(seen.every((s) => s.auth === "Bearer tok")).toBe(true);
    expect(result.steps.map((s) => [s.step, s.status, s.passed, s.failed])).toEqual([[1, 200, 1, 0], [3, 200, 1, 1]]);
    expect(result.failures).toEqual([
      expect.objectContaining({ step: 3, property: "userName", comparison: "equal", expected: "someone-else@b.c", actual: "a@b.c" }),
    ]);
    expect(lines[0]).toBe('step 1 GET /Users?filter=userName eq "abcdefgh@atko.com" → 200 (1/1)');
    expect(lines).toContain("step 3 GET /Users/abc123 → 200 (1/2)");
  });

  it("fails every assertion of a step whose request errors at the network level and keeps going", async () => {
    let calls = 0;
    const fetchImpl = (async () => {
      calls++;
      if (calls === 1) throw new TypeError("fetch failed");
      return new Response(JSON.stringify({ id: "x" }), { status: 200 });
    }) as typeof fetch;
    const twoSteps: RunscopeSuite = {
      steps: [
        { step_type: "request", method: "GET", url: "{{SCIMBaseURL}}/a", assertions: [
          { source: "response_status", comparison: "equal_number", value: "200" },
          { source: "response_time", comparison: "is_less_than", value: "600" },
        ] },
        { step_type: "request", method: "GET", url: "{{SCIMBaseURL}}/b", assertions: [
          { source: "response_json", property: "id", comparison: "not_empty", value: null },
        ] },
      ],
    };
    const result = await runSuite({ suite: twoSteps, baseUrl: "http://unused.invalid", auth: "Bearer t", fetchImpl });
    expect([result.passed, result.failed]).toEqual([1, 2]);
    expect(result.steps[0]?.status).toBeNull();
    expect(result.failures.map((f) => f.actual)).toEqual(["network error: fetch failed", "network error: fetch failed"]);
  });
  it("takes a Runscope environment's variables over the initial script's and ignores a variable row without a name", async () => {
    const urls: string[] = [];
    const fetchImpl = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ id: "x" }), { status: 200 });
    }) as unknown as typeof fetch;
    const twoSteps: RunscopeSuite = {
      steps: [
        { step_type: "request", method: "GET", url: "{{oktaOrgUrl}}/api/v1/users/{{InvalidUserEmail}}",
          variables: [{ source: "response_json", property: "", name: null }] },
        { step_type: "request", method: "GET", url: "{{SCIMUrl}}/Users/{{null}}", assertions: [
          { source: "response_json", property: "id", comparison: "equal", value: "x" },
        ] },
      ],
    };
    const result = await runSuite({
      suite: twoSteps, baseUrl: "http://scim.invalid", auth: "Bearer t", fetchImpl,
      variables: { oktaOrgUrl: "http://okta.invalid", SCIMUrl: "http://scim.invalid", InvalidUserEmail: "set@env" },
    });
    expect(result.passed).toBe(1);
    expect(urls).toEqual(["http://okta.invalid/api/v1/users/set@env", "http://scim.invalid/Users/%7B%7Bnull%7D%7D"]);
  });
});
