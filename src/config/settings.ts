// The one place that reads the environment. Parsed once at start, validated, frozen.
import { isIP } from "node:net";
import { hostname } from "node:os";
import path from "node:path";
import cron from "node-cron";

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
  /** `NODE_ENV=production` (the container sets it): no demo account, no token printed at start. */
  readonly production: boolean;
  /** On first start with an empty embedded database, create a demo account and print its SCIM token. */
  readonly demoAccount: boolean;
  /**
   * Which peers may say, in X-Forwarded-Proto/-For/-Host, how a request reached them (express's
   * `trust proxy`): false (nobody, the default), true (anybody), a number of hops, or addresses and
   * subnets. A request is HTTPS only when it arrived over TLS or a trusted proxy says so.
   */
  readonly trustProxy: boolean | number | readonly string[];
  /** Largest SCIM request body accepted, in bytes. */
  readonly scimBodyLimitBytes: number;
  /** Largest page a SCIM list returns, whatever `count` asks for. */
  readonly scimMaxPageSize: number;
  /**
   * Seconds a verified SCIM token is trusted without a database lookup (src/accounts/scim-token-cache.ts);
   * 0 looks every request's token up. A revocation ends it at once whatever this says, unless the replica
   * has lost its notifications, when this is how late the revocation can take effect.
   */
  readonly scimTokenCacheSeconds: number;
  /** Per-SCIM-token request rate, for the whole fleet (src/limits): refill per second and burst. */
  readonly scimRateLimit: { readonly ratePerSecond: number; readonly burst: number };
  /** When every account's full reconcile is queued (cron, UTC); its jobs spread over the slot. */
  readonly fullReconcileSchedule: string;
  /** Background jobs one replica runs at once (each holds a database connection while it runs). */
  readonly workerConcurrency: number;
  /** This replica's name in logs and the job queue's records (default host:pid). */
  readonly replicaName: string;
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

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

// express's names for address ranges (proxy-addr): 127.0.0.0/8 and ::1; 169.254.0.0/16 and fe80::/10;
// 10/8, 172.16/12, 192.168/16 and fc00::/7
const PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** One entry of a trust proxy list: a range name, an address, or address/prefix (or address/netmask). */
function proxyEntry(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address, mask, extra] = entry.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || extra !== undefined) return false;
  if (mask === undefined) return true;
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(mask) === 4;
}

function trustProxy(env: Env): boolean | number | readonly string[] {
  const name = "IDSYNC_TRUST_PROXY";
  const raw = env[name]?.trim() ?? "";
  if (raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  if (/^\d+$/.test(raw)) return integer(env, name, 0, 0, 100);
  const entries = raw.split(",").map((e) => e.trim()).filter(Boolean);
  const wrong = entries.find((e) => !proxyEntry(e));
  if (wrong !== undefined || entries.length === 0) {
    throw new ConfigError(name, `expected true, false, a number of proxy hops, or a comma-separated list of addresses, subnets (10.0.0.0/8) and loopback, linklocal, uniquelocal; "${wrong ?? raw}" is none of these`);
  }
  return Object.freeze(entries);
}

function cronExpression(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  if (!cron.validate(raw)) throw new ConfigError(name, `expected a cron expression (UTC) such as "*/10 * * * *", got "${raw}"`);
  return raw;
}

/** Reads settings from an environment (process.env by default); throws ConfigError with a one-line reason. */
export function loadSettings(env: Env = process.env): Settings {
  const port = integer(env, "PORT", 8080, 0, 65535);
  const host = env.HOST || "0.0.0.0";
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "expected a postgres:// or postgresql:// URL");
  }
  const production = env.NODE_ENV === "production";
  // the demo account's SCIM token is printed at start: never where logs are collected
  if (production && boolean(env, "IDSYNC_DEMO", false)) {
    throw new ConfigError("IDSYNC_DEMO", "the demo account is never created in production (NODE_ENV=production); unset IDSYNC_DEMO");
  }
  const settings: Settings = {
    databaseUrl,
    dataDir: path.resolve(env.IDSYNC_DATA_DIR || "./data"),
    port,
    host,
    publicUrl: url(env, "IDSYNC_PUBLIC_URL", undefined),
    production,
    demoAccount: !production && boolean(env, "IDSYNC_DEMO", true),
    trustProxy: trustProxy(env),
    adminToken: env.IDSYNC_ADMIN_TOKEN || undefined,
    serverUrl: url(env, "IDSYNC_URL", "http://127.0.0.1:8080")!,
    logLevel: env.LOG_LEVEL || "info",
    scimBodyLimitBytes: integer(env, "IDSYNC_SCIM_BODY_LIMIT", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    scimMaxPageSize: integer(env, "IDSYNC_SCIM_MAX_PAGE_SIZE", 1000, 1, 10_000),
    scimTokenCacheSeconds: integer(env, "IDSYNC_SCIM_TOKEN_CACHE_SECONDS", 5, 0, 60),
    // Entra sends up to 25 requests per second per tenant; leave it four times that, bursts of ten seconds
    scimRateLimit: Object.freeze({
      ratePerSecond: integer(env, "IDSYNC_SCIM_RATE_LIMIT", 100, 1, 1_000_000),
      burst: integer(env, "IDSYNC_SCIM_RATE_BURST", 1000, 1, 10_000_000),
    }),
    fullReconcileSchedule: cronExpression(env, "IDSYNC_FULL_RECONCILE_SCHEDULE", "*/10 * * * *"),
    workerConcurrency: integer(env, "IDSYNC_WORKER_CONCURRENCY", 2, 1, 64),
    replicaName: env.IDSYNC_REPLICA_NAME?.trim() || `${hostname()}:${process.pid}`,
  };
  return Object.freeze(settings);
}
