// What one pull holds while it runs: the Directory client, the request counter with its budget and
// retry policy, and the user listing both pulls share. Built per pull; only the auth client (token
// cache) and the budget are worth keeping across pulls, and callers may pass both in.
import type { admin_directory_v1 } from "@googleapis/admin";
import { loadGoogleAuth, makeDirectoryClient, DIRECTORY_SCOPES, type GoogleAuth } from "./directory-client.ts";
import { DEFAULT_RETRY_POLICY, DirectoryRequests, type RetryPolicy } from "./directory-requests.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_QUOTA_PER_MINUTE, type GoogleConnectionConfig } from "./google-connection.ts";
import { collectPages, walkPages } from "./page-walk.ts";
import { RequestBudget, systemClock, type PullClock } from "./request-budget.ts";

/** What a pull needs besides the connection; everything is optional in production. */
export interface GooglePullDeps {
  /** Where `credentials.keyEnv` is looked up; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** An auth client kept across pulls (saves a token request per pull), or a test's; built from the key if absent. */
  readonly auth?: GoogleAuth;
  /** The connection's request budget, shared by all its pulls; a fresh one per pull if absent. */
  readonly budget?: RequestBudget;
  readonly retry?: Partial<RetryPolicy>;
  readonly clock?: PullClock;
  readonly random?: () => number;
  /** Called for every answer that is retried because Google throttled it (429, 403 usageLimits). */
  readonly onThrottle?: (status: number | null) => void;
}

export interface DirectorySession {
  readonly directory: admin_directory_v1.Admin;
  readonly requests: DirectoryRequests;
  readonly customer: string;
  readonly concurrency: number;
}

export async function openDirectorySession(config: GoogleConnectionConfig, deps: GooglePullDeps): Promise<DirectorySession> {
  const auth = deps.auth ?? (await loadGoogleAuth(config, deps.env));
  const clock = deps.clock ?? systemClock;
  const budget = deps.budget ?? new RequestBudget(config.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE, clock);
  const requests = new DirectoryRequests(budget, { ...DEFAULT_RETRY_POLICY, ...deps.retry }, clock, deps.random ?? Math.random, {
    clientId: auth.clientId, subject: config.subject ?? null, customerId: config.customerId, scopes: DIRECTORY_SCOPES,
  }, deps.onThrottle);
  return {
    directory: makeDirectoryClient(auth.client, config.fakeBaseUrl),
    requests,
    customer: config.customerId,
    concurrency: config.concurrency ?? DEFAULT_CONCURRENCY,
  };
}

/** Every page of one users.list (500 per page, the maximum). */
export function listUsers(session: DirectorySession, what: string, params: { query?: string; showDeleted?: "true"; fields: string }):
  Promise<admin_directory_v1.Schema$User[]> {
  const { directory, requests, customer } = session;
  return collectPages(what, "users", (pageToken) => requests.send({ what, pageToken },
    (options) => directory.users.list({ customer, maxResults: 500, ...params, ...(pageToken ? { pageToken } : {}) }, options)),
  (page) => page.users);
}

/** The same listing page by page: `onPage` gets each page's users before the next is requested. */
export function walkUsers(session: DirectorySession, what: string, params: { query?: string; showDeleted?: "true"; fields: string },
  onPage: (users: admin_directory_v1.Schema$User[]) => Promise<void>): Promise<number> {
  const { directory, requests, customer } = session;
  return walkPages(what, "users", (pageToken) => requests.send({ what, pageToken },
    (options) => directory.users.list({ customer, maxResults: 500, ...params, ...(pageToken ? { pageToken } : {}) }, options)),
  (page) => page.users, onPage);
}
