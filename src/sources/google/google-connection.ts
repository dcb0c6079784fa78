// What one Google Workspace connection needs, checked once before any call: a bad setting fails with
// one sentence naming the field instead of a 4xx deep inside a pull. Secrets are references only: a
// key file path or the NAME of an environment variable, never the key itself.

export interface GoogleConnectionConfig {
  /** `my_customer` (the customer of the credentials) or the customer id (`C01abcd23`). */
  readonly customerId: string;
  /** Admin to impersonate by domain-wide delegation; omit when the service account holds an admin role itself. */
  readonly subject?: string;
  readonly credentials: { readonly keyFile?: string; readonly keyEnv?: string };
  /** groups.list `query` (`email:aws-*`) limiting the groups pulled. */
  readonly groupQuery?: string;
  /** Groups named by rules, pulled in addition to (or, alone, instead of) a listing. */
  readonly groupEmails?: readonly string[];
  /** Client-side request budget; 80 % of Google's default 2,400 queries per minute per user. */
  readonly quotaPerMinute?: number;
  /** members.list requests in flight at once. */
  readonly concurrency?: number;
  /** Tests and demos only: a local fake standing in for both Google hosts. */
  readonly fakeBaseUrl?: string;
}

export const DEFAULT_QUOTA_PER_MINUTE = 1920;
export const DEFAULT_CONCURRENCY = 10;

export type GoogleConnectionCheck =
  | { readonly ok: true; readonly config: GoogleConnectionConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

const KNOWN = new Set(["customerId", "subject", "credentials", "groupQuery", "groupEmails", "quotaPerMinute", "concurrency", "fakeBaseUrl"]);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a parsed settings object; on success returns it frozen with defaults applied. */
export function validateGoogleConnection(input: unknown): GoogleConnectionCheck {
  const errors: string[] = [];
  if (input === null || typeof input !== "object" || Array.isArray(input)) return { ok: false, errors: ["a Google connection must be an object"] };
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) errors.push(`unknown setting "${key}"`);

  if (typeof raw.customerId !== "string" || !/^(my_customer|C[0-9A-Za-z]{4,})$/.test(raw.customerId)) {
    errors.push('customerId must be "my_customer" or the customer id from Admin console → Account → Account settings (like C01abcd23)');
  }
  if (raw.subject !== undefined && (typeof raw.subject !== "string" || !EMAIL.test(raw.subject))) {
    errors.push("subject must be the email of a Workspace admin with Directory read privileges");
  }
  const credentials = raw.credentials as Record<string, unknown> | undefined;
  if (credentials === null || typeof credentials !== "object" || Array.isArray(credentials)) {
    errors.push("credentials must be { keyFile } or { keyEnv }");
  } else {
    const { keyFile, keyEnv } = credentials;
    for (const key of Object.keys(credentials)) if (key !== "keyFile" && key !== "keyEnv") errors.push(`unknown setting "credentials.${key}"`);
    if ((keyFile === undefined) === (keyEnv === undefined)) errors.push("credentials needs exactly one of keyFile (a path) or keyEnv (an environment variable name)");
    if (keyFile !== undefined && (typeof keyFile !== "string" || keyFile.trim() === "" || looksLikeSecret(keyFile))) {
      errors.push("credentials.keyFile must be the path of the service-account key file, not the key itself");
    }
    if (keyEnv !== undefined && (typeof keyEnv !== "string" || !ENV_NAME.test(keyEnv))) {
      errors.push("credentials.keyEnv must be the NAME of an environment variable holding the service-account JSON, not the key itself");
    }
  }
  if (raw.groupQuery !== undefined && (typeof raw.groupQuery !== "string" || raw.groupQuery.trim() === "")) {
    errors.push("groupQuery must be a non-empty groups.list query such as \"email:aws-*\"");
  }
  if (raw.groupEmails !== undefined && (!Array.isArray(raw.groupEmails) || raw.groupEmails.some((e) => typeof e !== "string" || !EMAIL.test(e)))) {
    errors.push("groupEmails must be a list of group email addresses");
  }
  if (raw.quotaPerMinute !== undefined && !(Number.isInteger(raw.quotaPerMinute) && (raw.quotaPerMinute as number) >= 1)) {
    errors.push("quotaPerMinute must be a positive whole number of requests per minute");
  }
  if (raw.concurrency !== undefined && !(Number.isInteger(raw.concurrency) && (raw.concurrency as number) >= 1 && (raw.concurrency as number) <= 50)) {
    errors.push("concurrency must be a whole number from 1 to 50");
  }
  if (raw.fakeBaseUrl !== undefined && (typeof raw.fakeBaseUrl !== "string" || !/^https?:\/\/[^/]+\/?$/.test(raw.fakeBaseUrl))) {
    errors.push("fakeBaseUrl must be an http(s) origin such as http://127.0.0.1:4010");
  }
  if (errors.length > 0) return { ok: false, errors };
  const config: GoogleConnectionConfig = {
    ...(raw as unknown as GoogleConnectionConfig),
    credentials: Object.freeze({ ...(credentials as GoogleConnectionConfig["credentials"]) }),
    ...(raw.groupEmails ? { groupEmails: Object.freeze([...(raw.groupEmails as string[])]) } : {}),
    quotaPerMinute: (raw.quotaPerMinute as number | undefined) ?? DEFAULT_QUOTA_PER_MINUTE,
    concurrency: (raw.concurrency as number | undefined) ?? DEFAULT_CONCURRENCY,
    ...(typeof raw.fakeBaseUrl === "string" ? { fakeBaseUrl: raw.fakeBaseUrl.replace(/\/$/, "") } : {}),
  };
  return { ok: true, config: Object.freeze(config) };
}

function looksLikeSecret(value: string): boolean {
  return value.includes("PRIVATE KEY") || value.trimStart().startsWith("{");
}
