import { describe, expect, it } from "vitest";
import { graphConfigProblems, parseGraphConfig } from "../../../src/sources/graph/graph-config.ts";
import { SourceConfigError } from "../../../src/sources/pull-errors.ts";

const valid = { tenantId: "contoso.onmicrosoft.com", clientId: "11111111-2222-3333-4444-555555555555", credentials: { secretEnv: "GRAPH_SECRET" } };

describe("Graph connection config", () => {
  it("accepts a secret env name or a certificate file, and freezes the result", () => {
    const config = parseGraphConfig({ ...valid, groupFilter: ["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"], fakeOrigin: "https://127.0.0.1:4443" });
    expect(Object.isFrozen(config)).toBe(true);
    expect(graphConfigProblems({ ...valid, credentials: { certificateFile: "/etc/idsync/graph.pem" } })).toEqual([]);
  });

  it("explains each problem in one sentence", () => {
    expect(graphConfigProblems({ ...valid, credentials: { secretEnv: "s3cr3t~value!" } })).toEqual([
      "credentials.secretEnv must be the NAME of an environment variable (like GRAPH_CLIENT_SECRET), never the secret"]);
    expect(graphConfigProblems({ ...valid, credentials: { secretEnv: "A", certificateFile: "/x.pem" } })[0]).toMatch(/exactly one/);
    expect(graphConfigProblems({ ...valid, credentials: { clientSecret: "abc" } })).toContain(
      "credentials has unknown keys (clientSecret); put secrets in an env var and name it in secretEnv");
    expect(graphConfigProblems({ ...valid, clientId: "app" })[0]).toMatch(/clientId must be/);
    expect(graphConfigProblems({ ...valid, fakeOrigin: "http://127.0.0.1:80" })[0]).toMatch(/https origin/);
    expect(graphConfigProblems({ ...valid, groupFilter: [] })[0]).toMatch(/groupFilter/);
    expect(() => parseGraphConfig({ tenantId: "" })).toThrow(SourceConfigError);
  });
});
