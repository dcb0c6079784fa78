// The SCIM filter compiler on its own: filter string in, parameterized SQL out. No database; the
// assertions name the parts of the SQL that carry meaning (operators, lower(), exists, bindings).
import { beforeAll, describe, expect, test } from "vitest";
import { compileFilter, MAX_FILTER_COMPARISONS, MAX_FILTER_SUBQUERIES } from "../../src/sources/scim/filter/compile-filter.ts";
import type { ResourceSqlShape } from "../../src/sources/scim/filter/resource-sql-shape.ts";
import { userSqlShape } from "../../src/sources/scim/resources/user-sql-shape.ts";
import { groupSqlShape } from "../../src/sources/scim/resources/group-sql-shape.ts";
import { declareScimResources } from "../../src/sources/scim/schemas.ts";
import { ScimUserResource } from "../../src/sources/scim/resources/user-resource.ts";
import { ScimGroupResource } from "../../src/sources/scim/resources/group-resource.ts";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const IDSYNC = "urn:ietf:params:scim:schemas:extension:idsync:2.0:User";
const UUID = "6a1e1c8e-4a6b-4f8e-9d3c-1b2a3c4d5e6f";

beforeAll(() => {
  // extension attributes are only in scimmy's registry once the resources are declared
  declareScimResources(ScimUserResource as never, ScimGroupResource as never);
});

const user = (filter: string) => compileFilter(filter, userSqlShape);
const group = (filter: string) => compileFilter(filter, groupSqlShape);
const count = (text: string, needle: string) => text.split(needle).length - 1;

function rejection(run: () => unknown): { status: unknown; scimType: unknown; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as { status?: unknown; scimType?: unknown; message: string };
    return { status: e.status, scimType: e.scimType, message: e.message };
  }
  throw new Error("expected the filter to be rejected");
}

function expectInvalidFilter(run: () => unknown): string {
  const e = rejection(run);
  expect(e.status).toBe(400);
  expect(e.scimType).toBe("invalidFilter");
  return e.message;
}

describe("comparison operators on a case-insensitive string (userName)", () => {
  test("eq compares lower-cased column and value", () => {
    const { sql, bindings } = user('userName eq "Bob"');
    expect(sql).toMatch(/lower\(u\.user_name\) = lower\(\?\)/);
    expect(bindings).toEqual(["Bob"]);
  });

  test("ne is a null-safe inequality", () => {
    const { sql, bindings } = user('userName ne "Bob"');
    expect(sql).toMatch(/lower\(u\.user_name\) is distinct from lower\(\?\)/);
    expect(bindings).toEqual(["Bob"]);
  });

  test.each([
    ["co", "%ob%"],
    ["sw", "ob%"],
    ["ew", "%ob"],
  ])("%s becomes LIKE with the wildcard placed in the binding", (op, pattern) => {
    const { sql, bindings } = user(`userName ${op} "ob"`);
    expect(sql).toMatch(/lower\(u\.user_name\) like lower\(\?\)/);
    expect(bindings).toEqual([pattern]);
  });

  test.each([
    ["gt", ">"],
    ["ge", ">="],
    ["lt", "<"],
    ["le", "<="],
  ])("%s becomes the ordering operator %s", (op, symbol) => {
    const { sql, bindings } = user(`userName ${op} "m"`);
    expect(sql).toContain(`lower(u.user_name) ${symbol} lower(?)`);
    expect(bindings).toEqual(["m"]);
  });

  test("pr on an indexed column tests for not null", () => {
    const { sql, bindings } = user("userName pr");
    expect(sql).toContain("u.user_name is not null");
    expect(bindings).toEqual([]);
  });

  test("pr on a document attribute excludes missing, null and empty-string values", () => {
    const { sql, bindings } = user("title pr");
    expect(sql).toContain(`(u.resource -> 'title') is not null`);
    expect(sql).toContain(`'null'::jsonb`);
    expect(sql).toContain(`'""'::jsonb`);
    expect(bindings).toEqual([]);
  });
});

describe("case sensitivity follows the schema's caseExact", () => {
  test("externalId (caseExact) is compared exactly, without lower()", () => {
    const { sql, bindings } = user('externalId eq "AbC"');
    expect(sql).toContain("u.external_id = ?");
    expect(sql).not.toContain("lower(");
    expect(bindings).toEqual(["AbC"]);
  });

  test("id (caseExact) is compared as text without lower() by sw", () => {
    const { sql, bindings } = user('id sw "6A1E"');
    expect(sql).toContain("u.id::text like ?");
    expect(sql).not.toContain("lower(");
    expect(bindings).toEqual(["6A1E%"]);
  });

  test("a document string attribute that is not caseExact (title) is lower-cased", () => {
    const { sql, bindings } = user('title eq "Engineer"');
    expect(sql).toMatch(/lower\(\(u\.resource ->> 'title'\)\) = lower\(\?\)/);
    expect(bindings).toEqual(["Engineer"]);
  });

  test("group displayName is compared case-insensitively", () => {
    const { sql, bindings } = group('displayName eq "Engineering"');
    expect(sql).toMatch(/lower\(g\.display_name\) = lower\(\?\)/);
    expect(bindings).toEqual(["Engineering"]);
  });
});

describe("typed attributes", () => {
  test("booleans compare with a boolean binding", () => {
    const { sql, bindings } = user("active eq false");
    expect(sql).toContain("u.active = ?");
    expect(bindings).toEqual([false]);
  });

  test("dateTimes compare as timestamptz with a normalised ISO binding", () => {
    const { sql, bindings } = user('meta.lastModified gt "2024-01-01T00:00:00Z"');
    expect(sql).toContain("u.updated_at > ?::timestamptz");
    expect(bindings).toEqual(["2024-01-01T00:00:00.000Z"]);
  });

  test("id eq with a UUID casts the binding to uuid; with a non-UUID it matches nothing", () => {
    const valid = user(`id eq "${UUID}"`);
    expect(valid.sql).toContain("u.id = ?::uuid");
    expect(valid.sql).not.toContain("lower(");
    expect(valid.bindings).toEqual([UUID]);
    const invalid = user('id eq "not-a-uuid"');
    expect(invalid.sql).toMatch(/\bfalse\b/);
    expect(invalid.sql).not.toContain("u.id");
    expect(invalid.bindings).toEqual([]);
  });
});

describe("logical operators", () => {
  test("and/or with parentheses keep their grouping", () => {
    const { sql, bindings } = user('userName eq "a" and (title eq "b" or displayName eq "c")');
    expect(sql).toMatch(/^\(.*user_name.*\) and \(\(.*'title'.*\) or \(.*display_name.*\)\)$/);
    expect(bindings).toEqual(["a", "b", "c"]);
  });

  test("or binds looser than and", () => {
    const { sql, bindings } = user('userName eq "a" or title eq "b" and displayName eq "c"');
    expect(sql).toMatch(/^\(.*user_name.*\) or \(\(.*'title'.*\) and \(.*display_name.*\)\)$/);
    expect(bindings).toEqual(["a", "b", "c"]);
  });

  test("not (A or B) negates the whole disjunction, not only its first term", () => {
    const { sql, bindings } = user('not (userName eq "a" or userName eq "b")');
    expect(sql).toMatch(/^not coalesce\(\(\(\(lower\(u\.user_name\) = lower\(\?\)\)\) or \(\(lower\(u\.user_name\) = lower\(\?\)\)\)\), false\)$/);
    expect(bindings).toEqual(["a", "b"]);
  });

  test("not (A and B) negates the whole conjunction", () => {
    const { sql, bindings } = user('not (userName eq "a" and active eq true)');
    expect(sql).toMatch(/^not coalesce\(\(\(.*user_name.*\) and \(.*u\.active.*\)\), false\)$/);
    expect(bindings).toEqual(["a", true]);
  });

  test("NOT makes its operand two-valued, so NOT over a missing attribute is still true", () => {
    const { sql } = user('not (title eq "x")');
    expect(sql).toMatch(/^not coalesce\(\(.*\), false\)$/);
  });

  test("leaves outside NOT stay bare so PostgreSQL can use the lower(user_name) index", () => {
    expect(user('userName eq "a"').sql).toBe("(lower(u.user_name) = lower(?))");
  });
});

describe("value paths and multi-valued attributes", () => {
  test('emails[type eq "work"].value eq "x" is ONE exists over one element holding both conditions', () => {
    const { sql, bindings } = user('emails[type eq "work"].value eq "x"');
    expect(count(sql, "exists (")).toBe(1);
    expect(count(sql, "jsonb_array_elements(")).toBe(1);
    expect(sql).toMatch(/exists \(select 1 from jsonb_array_elements\(.*'emails'.*\) as e\(v\) where .*\(e\.v ->> 'type'\).* and .*\(e\.v ->> 'value'\)/);
    expect(bindings).toEqual(["work", "x"]);
  });

  test("a bracket filter with and applies both conditions to the same element", () => {
    const { sql, bindings } = user('emails[type eq "work" and value co "@x"]');
    expect(count(sql, "exists (")).toBe(1);
    expect(sql).toMatch(/lower\(\(e\.v ->> 'type'\)\) = lower\(\?\).* and .*lower\(\(e\.v ->> 'value'\)\) like lower\(\?\)/);
    expect(bindings).toEqual(["work", "%@x%"]);
  });

  test("emails.value co matches any element's value", () => {
    const { sql, bindings } = user('emails.value co "example"');
    expect(count(sql, "exists (")).toBe(1);
    expect(sql).toContain("lower((e.v ->> 'value')) like lower(?)");
    expect(bindings).toEqual(["%example%"]);
  });

  test("groups.value is a correlated exists over the membership table", () => {
    const { sql, bindings } = user(`groups.value eq "${UUID}"`);
    expect(sql).toMatch(/exists \(select 1 from idp_group_members e .*where e\.member_id = u\.id and .*e\.group_id = \?::uuid/);
    expect(bindings).toEqual([UUID]);
  });

  test("group members.value is a correlated exists over the membership table", () => {
    const { sql, bindings } = group(`members.value eq "${UUID}"`);
    expect(sql).toMatch(/exists \(select 1 from idp_group_members e where e\.group_id = g\.id and .*e\.member_id = \?::uuid/);
    expect(bindings).toEqual([UUID]);
  });
});

describe("extension attributes by URN", () => {
  test("enterprise department reads the extension object in the document", () => {
    const { sql, bindings } = user(`${ENTERPRISE}:department eq "Sales"`);
    expect(sql).toContain(`(u.resource -> '${ENTERPRISE}') ->> 'department'`);
    expect(sql).toContain("lower(?)");
    expect(bindings).toEqual(["Sales"]);
  });

  test("enterprise manager.value reads the sub-attribute of the complex manager", () => {
    const { sql, bindings } = user(`${ENTERPRISE}:manager.value eq "m-1"`);
    expect(sql).toContain(`((u.resource -> '${ENTERPRISE}') -> 'manager') ->> 'value'`);
    expect(bindings).toEqual(["m-1"]);
  });

  test("the idsync extension's role is filterable", () => {
    const { sql, bindings } = user(`${IDSYNC}:role eq "admin"`);
    expect(sql).toContain(`(u.resource -> '${IDSYNC}') ->> 'role'`);
    expect(bindings).toEqual(["admin"]);
  });
});

describe("user values never reach the SQL text", () => {
  test("LIKE wildcards in a co value are escaped so they match literally", () => {
    const { bindings } = user('userName co "50%_off"');
    expect(bindings).toEqual(["%50\\%\\_off%"]);
  });

  test.each([
    'userName eq "\'; drop table x; --"',
    'title co "\'; drop table x; --"',
    'emails[type eq "\'; drop table x; --"].value eq "\'; drop table x; --"',
    `${ENTERPRISE}:department ne "'; drop table x; --"`,
  ])("an injection attempt travels only as a binding: %s", (filter) => {
    const { sql, bindings } = user(filter);
    expect(sql).not.toContain("drop table");
    expect(sql).not.toContain("--");
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) expect(String(binding)).toContain("'; drop table x; --");
  });
});

describe("invalid filters are 400 invalidFilter", () => {
  test("more comparisons than the limit; the limit itself compiles", () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(" or ");
    expect(user(chain(MAX_FILTER_COMPARISONS)).bindings).toHaveLength(MAX_FILTER_COMPARISONS);
    expect(expectInvalidFilter(() => user(chain(MAX_FILTER_COMPARISONS + 1)))).toContain(`more than ${MAX_FILTER_COMPARISONS} comparisons`);
  });

  test("more subqueries into multi-valued attributes than the limit, however they are written", () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `members.value eq "m${i}"`).join(" and ");
    expect(group(members(MAX_FILTER_SUBQUERIES)).sql.match(/exists \(/g)).toHaveLength(MAX_FILTER_SUBQUERIES);
    expect(expectInvalidFilter(() => group(members(MAX_FILTER_SUBQUERIES + 1)))).toContain("multi-valued");
    // value paths, bare multi-valued attributes and negations count alike; a fused value path is one
    const mixed = Array.from({ length: MAX_FILTER_SUBQUERIES + 1 }, (_, i) =>
      [`emails[type eq "t${i}"]`, `not (emails.value eq "e${i}")`, `groups.value eq "g${i}"`][i % 3]).join(" or ");
    expectInvalidFilter(() => user(mixed));
    const fused = Array.from({ length: MAX_FILTER_SUBQUERIES }, (_, i) => `emails[type eq "work"].value eq "x${i}"`).join(" or ");
    expect(user(fused).sql.match(/exists \(/g)).toHaveLength(MAX_FILTER_SUBQUERIES);
  });

  test("an unknown attribute", () => {
    expect(expectInvalidFilter(() => user('nickName2 eq "x"'))).toContain("nickName2");
  });

  test("an unknown sub-attribute inside a value path", () => {
    expectInvalidFilter(() => user('emails[kind eq "work"]'));
  });

  test("an unknown extension attribute", () => {
    expectInvalidFilter(() => user(`${ENTERPRISE}:shoeSize eq "9"`));
  });

  test("an unknown group attribute", () => {
    expectInvalidFilter(() => group('userName eq "x"'));
  });

  test.each(["gt", "ge", "lt", "le"])("%s on a boolean", (op) => {
    expectInvalidFilter(() => user(`active ${op} true`));
  });

  test.each(["co", "sw", "ew"])("%s on a boolean", (op) => {
    expectInvalidFilter(() => user(`active ${op} true`));
  });

  test("co on a number", () => {
    // no core User attribute is numeric: a shape with one integer column stands in
    const integer = { name: "level", type: "integer", caseExact: false, multiValued: false, subAttributes: [] } as const;
    const numeric: ResourceSqlShape = {
      facts: () => ({ top: integer, leaf: integer }),
      columns: { level: { kind: "scalar", sql: "t.level", type: "integer", caseExact: false } },
      relations: {},
      document: "t.resource",
      coreUrn: "urn:example:Thing",
    };
    expect(compileFilter("level gt 3", numeric).sql).toContain("t.level > ?");
    expectInvalidFilter(() => compileFilter("level co 3", numeric));
  });

  test("a non-date compared to meta.lastModified", () => {
    expectInvalidFilter(() => user('meta.lastModified gt "yesterday"'));
    expectInvalidFilter(() => user('meta.lastModified gt "2024-13-45Tnope"'));
  });

  test.each([
    "userName eq",
    "title pr and",
    '(userName eq "a"',
    'userName eq "a")',
    '((userName eq "a") or title pr',
    'emails[type eq "work"',
    "",
  ])("malformed syntax: %j", (filter) => {
    expectInvalidFilter(() => user(filter));
  });
});
