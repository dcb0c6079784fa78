// The Graph client for one pull: the SDK's own middleware chain (Authentication → Retry → Redirect → Telemetry →
// HTTPMessage) with our retry in place of the SDK's and a call counter just before the wire. The same chain runs
// in production and against the local fake; only the origin and the trusted CA differ.
import {
  AuthenticationHandler, Client, HTTPMessageHandler, RedirectHandler, TelemetryHandler,
} from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import type { TokenCredential } from "@azure/identity";
import { CallCounter } from "./call-counter.ts";
import { GraphRetry, type RetryDeps } from "./graph-retry.ts";

export const GRAPH_ORIGIN = "https://graph.microsoft.com";
export const GRAPH_SCOPES = ["https://graph.microsoft.com/.default"];

/** A client plus the counter of the HTTP requests it has sent. */
export interface CountedGraphClient {
  readonly client: Client;
  readonly counter: CallCounter;
  /** The origin every request and every followed link must stay on. */
  readonly origin: string;
}

export function makeGraphClient(credential: TokenCredential, retry: RetryDeps,
  options: { fakeOrigin?: string; fetchOptions?: Record<string, unknown> } = {}): CountedGraphClient {
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: GRAPH_SCOPES });
  const counter = new CallCounter();
  const origin = options.fakeOrigin ?? GRAPH_ORIGIN;
  const client = Client.initWithMiddleware({
    middleware: [new AuthenticationHandler(authProvider), new GraphRetry(retry), new RedirectHandler(),
      new TelemetryHandler(), counter, new HTTPMessageHandler()],
    defaultVersion: "v1.0",
    fetchOptions: { ...options.fetchOptions, headers: { "x-ms-throttle-priority": "low" } },
    ...(options.fakeOrigin ? { baseUrl: options.fakeOrigin, customHosts: new Set([new URL(options.fakeOrigin).hostname]) } : {}),
  });
  return { client, counter, origin };
}
