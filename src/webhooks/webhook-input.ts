// What an operator may configure as a webhook, checked before anything is stored. Pure.

export class InvalidWebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidWebhookError";
  }
}

/** A webhook as it is stored: a URL, the name of the variable holding its secret, and a type filter. */
export interface NewWebhook {
  readonly url: string;
  readonly secretEnv: string;
  /** null: every event type. */
  readonly eventTypes: readonly string[] | null;
}

/**
 * Secrets are read only from variables named IDSYNC_WEBHOOK_…: anything else in the environment (the
 * database URL, the admin token) can never become a signing key whose signatures a receiver collects.
 */
export const SECRET_ENV_PREFIX = "IDSYNC_WEBHOOK_";
const SECRET_ENV = /^IDSYNC_WEBHOOK_[A-Z0-9_]{1,100}$/;

export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV.test(name);
}
const EVENT_TYPE = /^[a-z][a-z0-9_.-]{0,99}$/;

export function checkNewWebhook(input: { url?: unknown; secretEnv?: unknown; eventTypes?: unknown }): NewWebhook {
  if (typeof input.url !== "string" || input.url.length === 0) throw new InvalidWebhookError("url is required");
  if (input.url.length > 2048) throw new InvalidWebhookError("url must be at most 2048 characters");
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new InvalidWebhookError(`url "${input.url}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidWebhookError("url must be http or https");
  if (url.username || url.password) throw new InvalidWebhookError("url must not carry credentials; requests are signed instead");

  if (typeof input.secretEnv !== "string") throw new InvalidWebhookError("secretEnv is required: the name of the environment variable holding the signing secret");
  if (!isSecretEnvName(input.secretEnv)) {
    throw new InvalidWebhookError(`secretEnv must be the NAME of an environment variable starting with ${SECRET_ENV_PREFIX} (uppercase letters, digits, underscores), not the secret itself`);
  }

  let eventTypes: string[] | null = null;
  if (input.eventTypes !== undefined && input.eventTypes !== null) {
    if (!Array.isArray(input.eventTypes) || input.eventTypes.length === 0 || input.eventTypes.some((t) => typeof t !== "string" || !EVENT_TYPE.test(t))) {
      throw new InvalidWebhookError(`eventTypes must be a non-empty list of event types such as "member.added" (omit it for every type)`);
    }
    eventTypes = [...new Set(input.eventTypes as string[])];
  }
  return { url: url.href, secretEnv: input.secretEnv, eventTypes };
}
