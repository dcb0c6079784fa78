// The one place that reads the environment. Parsed once at start, validated, frozen.
import path from "node:path";

/** Everything idsync can be configured with; every field has its default here. */
export interface Settings {
  /** PostgreSQL URL; absent → the embedded PGlite database in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** The externally visible base URL; SCIM locations are built from it. Unset → http://127.0.0.1:<port>. */
  readonly publicUrl: string | undefined;
  /** First admin token, accepted by `serve` (kept hashed in the database, never logged). */
  readonly adminToken: string | undefined;
  /** Where the CLI finds the running server. */
  readonly serverUrl: string;
  readonly logLevel: string;
  /** On first start with an empty embedded database, create a demo account and print its SCIM token. */
  readonly demoAccount: boolean;
  /** Largest SCIM request body accepted, in bytes. */
  readonly scimBodyLimitBytes: number;
  /** Largest page a SCIM list returns, whatever `count` asks for. */
  readonly scimMaxPageSize: number;
  /** Per-SCIM-token request rate: refill per second and burst. */
  readonly scimRateLimit: { readonly ratePerSecond: number; readonly burst: number };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, fallback: string | undefined): string | undefined {
  const raw = env[name] || fallback;
  if (raw === undefined) return undefined;
  try {
    return new URL(raw).toString().replace(/\/$/, "");
  } catch {
    throw new ConfigError(name, `expected a URL, got "${raw}"`);
  }
}

/** Reads settings from an environment (process.env by default); throws ConfigError with a one-line reason. */
export function loadSettings(env: Env = process.env): Settings {
  const port = integer(env, "PORT", 8080, 0, 65535);
  const host = env.HOST || "0.0.0.0";
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "expected a postgres:// or postgresql:// URL");
  }
  const settings: Settings = {
    databaseUrl,
    dataDir: path.resolve(env.IDSYNC_DATA_DIR || "./data"),
    port,
    host,
    publicUrl: url(env, "IDSYNC_PUBLIC_URL", undefined),
    demoAccount: env.IDSYNC_DEMO !== "false",
    adminToken: env.IDSYNC_ADMIN_TOKEN || undefined,
    serverUrl: url(env, "IDSYNC_URL", "http://127.0.0.1:8080")!,
    logLevel: env.LOG_LEVEL || "info",
    scimBodyLimitBytes: integer(env, "IDSYNC_SCIM_BODY_LIMIT", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    scimMaxPageSize: integer(env, "IDSYNC_SCIM_MAX_PAGE_SIZE", 1000, 1, 10_000),
    // Entra sends up to 25 requests per second per tenant; leave it four times that, bursts of ten seconds
    scimRateLimit: Object.freeze({
      ratePerSecond: integer(env, "IDSYNC_SCIM_RATE_LIMIT", 100, 1, 1_000_000),
      burst: integer(env, "IDSYNC_SCIM_RATE_BURST", 1000, 1, 10_000_000),
    }),
  };
  return Object.freeze(settings);
}
