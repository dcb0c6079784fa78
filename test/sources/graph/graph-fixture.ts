// Wiring shared by the Graph pull tests: a connection config and deps pointing the real client at a local fake.
import { parseGraphConfig, type GraphConnectionConfig } from "../../../src/sources/graph/graph-config.ts";
import type { GraphPullDeps } from "../../../src/sources/graph/delta-pull.ts";
import type { GraphFake } from "../../fakes/graph/graph-fake.ts";

export const SECRET_ENV = "IDSYNC_TEST_GRAPH_SECRET";
export const NO_LINKS = { usersDeltaLink: null, groupsDeltaLink: null } as const;

export function configFor(fake: GraphFake, extra: Record<string, unknown> = {}): GraphConnectionConfig {
  return parseGraphConfig({ tenantId: fake.tenant.tenantId, clientId: fake.app.clientId, credentials: { secretEnv: SECRET_ENV },
    fakeOrigin: fake.url, ...extra });
}

/** Deps with fast retries (delays of a few ms) so fault tests stay quick. */
export function depsFor(fake: GraphFake, extra: Partial<GraphPullDeps> = {}): GraphPullDeps {
  return { env: { [SECRET_ENV]: fake.app.clientSecret }, trustedCaPem: fake.caPem,
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 }, ...extra };
}
