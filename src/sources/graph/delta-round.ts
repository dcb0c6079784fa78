// One delta round over one resource: follow @odata.nextLink until a page carries @odata.deltaLink. A page with
// neither, or without a `value` list, is a broken answer and fails the round: it is never read as "no changes".
import type { Client } from "@microsoft/microsoft-graph-client";
import { DeltaResyncRequired, IncompletePullError } from "../pull-errors.ts";

/** Every entry of the round, in order (duplicates and replays included), and the link for the next round. */
export interface DeltaRound {
  readonly entries: unknown[];
  readonly deltaLink: string;
}

// a runaway page chain (a server bug or a loop) must end; 50k users at Graph's ~100-200 per page is ~500 pages
const MAX_PAGES = 10_000;

function sameOrigin(link: string, origin: string): boolean {
  try {
    return new URL(link).origin === origin;
  } catch {
    return false;
  }
}

/**
 * Walks the round starting at `start`: a stored deltaLink, or a path like `/users/delta?$select=…` for an initial
 * round, handing each page's entries to `onPage` in order (awaited: a slow consumer slows the walk), and returns
 * the link for the next round. Links that leave `origin` are refused, so the bearer token never goes elsewhere.
 */
export async function walkDeltaRound(client: Client, origin: string, resource: string, start: string,
  onPage: (entries: unknown[]) => Promise<void> | void): Promise<string> {
  if (/^https?:/i.test(start) && !sameOrigin(start, origin)) {
    throw new DeltaResyncRequired(`the stored ${resource} deltaLink is not on ${origin}; run a full resync`);
  }
  let url = start;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const body = (await client.api(url).get()) as Record<string, unknown> | null;
    const value = body?.value;
    if (!Array.isArray(value)) {
      throw new IncompletePullError(`Graph ${resource}/delta page ${page + 1} had no value list`);
    }
    const next = body!["@odata.nextLink"];
    const delta = body!["@odata.deltaLink"];
    if (typeof next === "string" && typeof delta === "string") {
      throw new IncompletePullError(`Graph ${resource}/delta page ${page + 1} had both a nextLink and a deltaLink`);
    }
    if (typeof delta !== "string" && typeof next !== "string") {
      throw new IncompletePullError(`Graph ${resource}/delta page ${page + 1} had neither a nextLink nor a deltaLink`);
    }
    const link = (delta ?? next) as string;
    if (!sameOrigin(link, origin)) throw new IncompletePullError(`Graph ${resource}/delta returned a ${typeof delta === "string" ? "deltaLink" : "nextLink"} off ${origin}`);
    await onPage(value);
    if (typeof delta === "string") return delta;
    url = next as string;
  }
  throw new IncompletePullError(`Graph ${resource}/delta did not end after ${MAX_PAGES} pages`);
}

/** The whole round in memory: every entry in order (duplicates and replays included) and the next round's link. */
export async function readDeltaRound(client: Client, origin: string, resource: string, start: string): Promise<DeltaRound> {
  const entries: unknown[] = [];
  const deltaLink = await walkDeltaRound(client, origin, resource, start, (page) => { entries.push(...page); });
  return { entries, deltaLink };
}
