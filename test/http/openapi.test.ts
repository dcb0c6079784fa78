// The admin API's OpenAPI document: structurally valid 3.1, and describing exactly the routes the real
// admin router registers (walked from its express stack, pull and webhook routes included), no more, no fewer.
import fs from "node:fs";
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../src/log/logger.ts";
import { createAdminRouter } from "../../src/http/admin/admin-router.ts";
import { ADMIN_OPENAPI, openApiRoute, type Operation, type PathItem } from "../../src/http/admin/openapi.ts";
import { webhookRoutes } from "../../src/http/admin/webhook-routes.ts";
import { PullScheduler } from "../../src/scheduler/pull-scheduler.ts";
import { MemoryBucketStore } from "../../src/limits/bucket-store.ts";
import { ScimTokenCache } from "../../src/accounts/scim-token-cache.ts";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const doc = ADMIN_OPENAPI;

function operations(): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]: [string, PathItem]) =>
    METHODS.flatMap((method) => (item[method] ? [{ path, method, op: item[method]! }] : [])));
}

/** Every `$ref` string anywhere in a value. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, found));
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "$ref" && typeof v === "string") found.push(v);
      else refs(v, found);
    }
  }
  return found;
}

function resolve(ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/").reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), doc);
}

/** An operation's parameters with references resolved. */
function parametersOf(op: Operation): { name: string; in: string; required?: boolean }[] {
  return (op.parameters ?? []).map((p) => ("$ref" in p ? resolve(p.$ref) : p) as { name: string; in: string; required?: boolean });
}

// ---- the real routes, from the express 5 router stack ----

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

function walk(stack: Layer[], prefix = ""): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.flatMap((path) => Object.entries(layer.route!.methods).filter(([, on]) => on)
        .map(([method]) => `${method.toUpperCase()} ${(prefix + path).replace(/:(\w+)/g, "{$1}")}`));
    }
    if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
      return walk(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

const routesOf = (router: express.Router) => walk((router as unknown as { stack: Layer[] }).stack);

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db?.close());

describe("the document is structurally valid OpenAPI 3.1", () => {
  test("version, info, servers and global bearer security", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toMatch(/idsync/);
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.servers).toEqual([{ url: "/admin/v1" }]);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ adminToken: [] }]);
    for (const requirement of doc.security) for (const name of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(name);
  });

  test("every $ref resolves to a component", () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    const broken = all.filter((ref) => !ref.startsWith("#/components/") || resolve(ref) === undefined);
    expect(broken).toEqual([]);
  });

  test("every path parameter {x} is declared, required and in: path; no undeclared path parameters", () => {
    for (const { path, method, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = parametersOf(op).filter((p) => p.in === "path");
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inPath);
      for (const p of declared) expect(p.required, `${method} ${path} {${p.name}}`).toBe(true);
    }
  });

  test("every operation has an operationId (unique) and responses, each with a description", () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) {
      const responses = Object.entries(op.responses);
      expect(responses.length, `${method} ${path}`).toBeGreaterThan(0);
      expect(responses.some(([status]) => /^2\d\d$/.test(status)), `${method} ${path} has a success response`).toBe(true);
      for (const [status, response] of responses) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        const resolved = ("$ref" in response ? resolve(response.$ref) : response) as { description?: unknown };
        expect(typeof resolved.description, `${method} ${path} ${status}`).toBe("string");
      }
    }
  });

  test("errors are the shared Problem schema as application/problem+json; authenticated routes document 401", () => {
    expect(doc.components.schemas.Problem).toMatchObject({ type: "object", required: ["type", "title", "status", "detail"] });
    for (const response of Object.values(doc.components.responses)) {
      expect(response.content).toEqual({ "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } });
    }
    for (const { path, method, op } of operations()) {
      if (op.security?.length === 0) continue;
      expect(op.responses, `${method} ${path}`).toHaveProperty("401");
      expect(op.responses, `${method} ${path}`).toHaveProperty("500");
    }
  });

  test("sync answers application/x-ndjson lines: progress, then result", () => {
    const sync = doc.paths["/connections/{id}/sync"]!.post!;
    const content = (sync.responses["200"] as { content: Record<string, { schema: { $ref: string } }> }).content;
    expect(Object.keys(content)).toEqual(["application/x-ndjson"]);
    const line = resolve(content["application/x-ndjson"]!.schema.$ref) as { oneOf: { properties: Record<string, unknown> }[] };
    expect(line.oneOf.map((variant) => Object.keys(variant.properties))).toEqual([["progress"], ["result"]]);
  });
});

describe("the document covers the real admin router", () => {
  test("every registered route is documented, and every documented route is registered", async () => {
    const pulls = new PullScheduler({ db: db.knex, log: createLogger("silent") }); // never started
    const router = createAdminRouter({ db: db.knex, log: createLogger("silent"), publicUrl: "http://idsync.test", pulls, limitStore: new MemoryBucketStore(), scimTokens: new ScimTokenCache() });
    // openApiRoute (before the token check) and webhookRoutes are mounted on the admin router by their
    // owners; counted whether or not they are yet
    const real = new Set([...routesOf(router), ...routesOf(openApiRoute()), ...routesOf(webhookRoutes(db.knex, () => "operator:test"))]);
    const documented = new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    expect(real.has("POST /connections/{id}/sync")).toBe(true);
    expect([...real].filter((r) => !documented.has(r)), "registered but not documented").toEqual([]);
    expect([...documented].filter((r) => !real.has(r)), "documented but not registered").toEqual([]);
  });

  test("only GET /openapi.json is readable without a token", () => {
    const open = operations().filter(({ op }) => op.security?.length === 0).map(({ path, method }) => `${method} ${path}`);
    expect(open).toEqual(["get /openapi.json"]);
  });
});

test("openApiRoute serves the document at GET /openapi.json", async () => {
  const app = express().use("/admin/v1", openApiRoute());
  const server = http.createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(ADMIN_OPENAPI)));
  } finally {
    server.close();
  }
});
