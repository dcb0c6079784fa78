// Wiring shared by the Graph pull tests: a connection config and deps pointing the real client at a local fake.
import { parseGraphConfig, type GraphConnectionConfig } from "../../../src/sources/graph/graph-config.ts";
import type { GraphPullDeps } from "../../../src/sources/graph/delta-pull.ts";
import type { GraphFake } from "../../fakes/graph/graph-fake.ts";

export const SECRET_ENV = "IDSYNC_TEST_GRAPH_SECRET";
export const NO_LINKS = { usersDeltaLink: null, groupsDeltaLink: null } as const;

/** The connection settings an operator would give, pointing at the fake (as stored by `connection create`). */
export function settingsFor(fake: GraphFake, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { tenantId: fake.tenant.tenantId, clientId: fake.app.clientId, credentials: { secretEnv: SECRET_ENV }, fakeOrigin: fake.url, ...extra };
}

export function configFor(fake: GraphFake, extra: Record<string, unknown> = {}): GraphConnectionConfig {
  return parseGraphConfig(settingsFor(fake, extra));
}

/** A small company in the fake's tenant: an owner in Owners, and `developers` people in Developers. */
export function seedCompany(fake: GraphFake, domain: string, developers: number): void {
  const t = fake.tenant;
  const owner = t.addUser({ userPrincipalName: `owner@${domain}`, mail: `owner@${domain}`, displayName: "Owner" });
  const owners = t.addGroup({ displayName: "Owners" });
  const devs = t.addGroup({ displayName: "Developers" });
  t.addMember(owners.id, owner.id);
  for (let i = 1; i <= developers; i++) t.addMember(devs.id, t.addUser({ userPrincipalName: `dev${i}@${domain}`, mail: `dev${i}@${domain}`, displayName: `Dev ${i}` }).id);
}

/** The mapping rules for that company: Owners own the account, Developers read the domain. */
export const companyRules = (domain: string) =>
  `version: 1\nrules:\n  - name: owners\n    group: Owners\n    role: owner\n  - name: devs\n    group: Developers\n    domains:\n      ${domain}: read\n`;

/** Deps with fast retries (delays of a few ms) so fault tests stay quick. */
export function depsFor(fake: GraphFake, extra: Partial<GraphPullDeps> = {}): GraphPullDeps {
  return { env: { [SECRET_ENV]: fake.app.clientSecret }, trustedCaPem: fake.caPem,
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 }, ...extra };
}
