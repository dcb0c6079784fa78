// Shared set-up for the Google pull tests: a fake with a sample directory, an auth client that skips
// the token endpoint (or a real service-account key for the auth tests), a virtual clock so retries
// and the request budget cost no wall time, and fast retry settings.
import crypto from "node:crypto";
import { auth } from "@googleapis/admin";
import type { GoogleAuth } from "../../../src/sources/google/directory-client.ts";
import type { GooglePullDeps } from "../../../src/sources/google/directory-session.ts";
import type { GoogleConnectionConfig } from "../../../src/sources/google/google-connection.ts";
import type { PullClock } from "../../../src/sources/google/request-budget.ts";
import type { FakeDirectory } from "../../fakes/google/fake-directory.ts";
import { startGoogleFake, type GoogleFake, type GoogleFakeOptions } from "../../fakes/google/google-fake.ts";

export const ADMIN = "admin@example.com";
export const STATIC_TOKEN = "ya29.static-test-token";

/** An OAuth2 client holding a pre-issued token: no token traffic, so API call counts are exact. */
export function staticAuth(): GoogleAuth {
  const client = new auth.OAuth2();
  client.setCredentials({ access_token: STATIC_TOKEN, expiry_date: Date.now() + 3600e3 });
  return { client, clientId: null };
}

export async function startFake(directory: FakeDirectory, options: GoogleFakeOptions = {}): Promise<GoogleFake> {
  return startGoogleFake({ directory, staticTokens: { [STATIC_TOKEN]: ADMIN }, ...options });
}

export function connectionFor(fake: GoogleFake, extra: Partial<GoogleConnectionConfig> = {}): GoogleConnectionConfig {
  return { customerId: "my_customer", subject: ADMIN, credentials: { keyEnv: "GOOGLE_SA_KEY" }, fakeBaseUrl: fake.url, ...extra };
}

/** A clock that only moves when someone sleeps on it; records every sleep. */
export interface VirtualClock extends PullClock {
  readonly sleeps: number[];
  t: number;
}

export function virtualClock(start = 1_000_000): VirtualClock {
  const clock: VirtualClock = {
    t: start,
    sleeps: [],
    now: () => clock.t,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      const until = clock.t + ms;
      await new Promise((resolve) => setImmediate(resolve));
      clock.t = Math.max(clock.t, until);
    },
  };
  return clock;
}

export const FAST_RETRY = { maxRetries: 4, baseDelayMs: 1, maxDelayMs: 4 };

export function testDeps(extra: Partial<GooglePullDeps> = {}): GooglePullDeps {
  return { auth: staticAuth(), retry: FAST_RETRY, clock: virtualClock(), random: () => 0.5, ...extra };
}

/** A service-account key as Google issues it (JSON), with its public half for the fake. */
export function serviceAccountKey(clientEmail = "idsync@idsync-test.iam.gserviceaccount.com", clientId = "108765432109876543210") {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const json = JSON.stringify({
    type: "service_account", project_id: "idsync-test", private_key_id: "k1",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: clientEmail, client_id: clientId, token_uri: "https://oauth2.googleapis.com/token",
  });
  return { json, serviceAccount: { clientEmail, clientId, publicKey } };
}
