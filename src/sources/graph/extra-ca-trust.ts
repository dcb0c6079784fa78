// Trusting one extra CA for one Graph connection, without NODE_EXTRA_CA_CERTS. Node reads that variable only at
// start-up, and test workers (and the demo) start long before the local Graph fake has a certificate to trust, so the
// CA is handed to both HTTP stacks the connection uses instead: the Graph client's fetch (undici: a `dispatcher` in
// its fetchOptions) and the identity credential's pipeline (core-rest-pipeline: `tlsSettings.ca`, a supported
// request field). Only the fake's origin is ever reached with it; production passes nothing and trusts the system
// store as usual.
import type { ClientSecretCredentialOptions } from "@azure/identity";

/** What one connection needs to trust `caPem` on both of its HTTP stacks. */
export interface ExtraCaTrust {
  /** Merged into the Graph client's `fetchOptions`. */
  readonly fetchOptions: Record<string, unknown>;
  /** Spread into the `@azure/identity` credential's options. */
  readonly credentialOptions: Pick<ClientSecretCredentialOptions, "additionalPolicies">;
}

type CredentialPolicy = NonNullable<ClientSecretCredentialOptions["additionalPolicies"]>[number]["policy"];

// Node bundles undici for fetch but does not export its Agent; undici registers its global dispatcher under this
// cross-version symbol, and that dispatcher is an Agent whose constructor takes `connect.ca`.
const UNDICI_GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

type AgentClass = new (options: { connect: { ca: string } }) => object;

async function bundledUndiciAgent(): Promise<AgentClass> {
  const holder = globalThis as Record<symbol, unknown>;
  // the bundled undici loads, and registers its dispatcher, on the first fetch call
  if (!holder[UNDICI_GLOBAL_DISPATCHER]) await fetch("data:,").then((r) => r.arrayBuffer());
  const dispatcher = holder[UNDICI_GLOBAL_DISPATCHER] as object | undefined;
  if (!dispatcher || dispatcher.constructor.name !== "Agent") {
    throw new Error("cannot trust an extra CA: the global fetch dispatcher is not undici's Agent (was it replaced?)");
  }
  return dispatcher.constructor as AgentClass;
}

/** Trust `caPem` (PEM) for this connection's Graph requests and token requests, on top of nothing else. */
export async function trustExtraCa(caPem: string): Promise<ExtraCaTrust> {
  const Agent = await bundledUndiciAgent();
  const dispatcher = new Agent({ connect: { ca: caPem } });
  // one object, so core-rest-pipeline's agent cache (keyed on the tlsSettings object) reuses one agent
  const tlsSettings = { ca: caPem };
  const policy: CredentialPolicy = {
    name: "idsyncExtraCaTrust",
    sendRequest: (request, next) => {
      request.tlsSettings ??= tlsSettings;
      return next(request);
    },
  };
  return { fetchOptions: { dispatcher }, credentialOptions: { additionalPolicies: [{ policy, position: "perCall" }] } };
}
