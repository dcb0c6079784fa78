// A pulled connection's settings document (YAML or JSON, `idsync connection create --config <file>`):
// the source's own settings (checked by that source), plus when to pull and how much of a drop to
// believe. Secrets never appear here: only a key-file path or an environment variable's name.
import cron from "node-cron";
import { parse as parseYaml } from "yaml";
import { validateGoogleConnection, type GoogleConnectionConfig } from "./google/google-connection.ts";
import { graphConfigProblems, type GraphConnectionConfig } from "./graph/graph-config.ts";
import type { PulledKind } from "../accounts/connections.ts";


export type { PulledKind };

/** node-cron expressions (UTC). Google: a full pull and the cheap departure check; Graph: a delta round. */
export interface PullSchedule {
  readonly full: string;
  readonly departures?: string;
  readonly delta?: string;
}

export interface PullSettings {
  readonly schedule: PullSchedule;
  /** A pull leaving this many per cent fewer active users or memberships than the last good one is aborted. */
  readonly maxDropPercent: number;
}

export type ConnectionConfig =
  | { readonly kind: "google"; readonly source: GoogleConnectionConfig; readonly pull: PullSettings }
  | { readonly kind: "graph"; readonly source: GraphConnectionConfig; readonly pull: PullSettings };

export const DEFAULT_SCHEDULES: Record<PulledKind, PullSchedule> = {
  google: { full: "*/30 * * * *", departures: "*/5 * * * *" },
  // a delta round is cheap (1–3 calls without changes); a full resync also follows 410s and old links
  graph: { full: "0 3 * * 0", delta: "*/5 * * * *" },
};
export const DEFAULT_MAX_DROP_PERCENT = 20;

export class ConnectionConfigError extends Error {
  override readonly name = "ConnectionConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid connection settings: ${problems.join("; ")}`);
  }
}

/** Reads a settings file's text (YAML, of which JSON is a subset). */
export function parseConnectionDocument(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ConnectionConfigError([`not YAML or JSON: ${(error as Error).message}`]);
  }
}

/** Checks settings for a kind; throws ConnectionConfigError naming every problem. */
export function checkConnectionConfig(kind: PulledKind, raw: unknown): ConnectionConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConnectionConfigError(["the settings must be a mapping"]);
  const { schedule, maxDropPercent, ...source } = raw as Record<string, unknown>;
  const problems: string[] = [];
  const defaults = DEFAULT_SCHEDULES[kind];
  const chosen = { ...defaults, ...(typeof schedule === "object" && schedule !== null ? schedule : {}) } as Record<string, unknown>;
  if (schedule !== undefined && (typeof schedule !== "object" || schedule === null || Array.isArray(schedule))) problems.push("schedule must be a mapping of cron expressions");
  for (const [name, expression] of Object.entries(chosen)) {
    if (!(name in defaults)) problems.push(`schedule.${name} is not a schedule of a ${kind} connection (${Object.keys(defaults).join(", ")})`);
    else if (typeof expression !== "string" || !cron.validate(expression)) problems.push(`schedule.${name} must be a cron expression such as "*/30 * * * *"`);
  }
  const drop = maxDropPercent ?? DEFAULT_MAX_DROP_PERCENT;
  if (typeof drop !== "number" || !(drop >= 0 && drop <= 100)) problems.push("maxDropPercent must be a number from 0 to 100");
  const pull: PullSettings = { schedule: chosen as unknown as PullSchedule, maxDropPercent: drop as number };
  if (kind === "google") {
    const checked = validateGoogleConnection(source);
    if (!checked.ok || problems.length > 0) throw new ConnectionConfigError([...problems, ...(checked.ok ? [] : checked.errors)]);
    return { kind, source: checked.config, pull };
  }
  problems.push(...graphConfigProblems(source));
  if (problems.length > 0) throw new ConnectionConfigError(problems);
  return { kind, source: source as unknown as GraphConnectionConfig, pull };
}
