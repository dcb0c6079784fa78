// Which groups a pull reads: every group of the customer, or those matching groupQuery and/or named
// in groupEmails (what the rules refer to). A named group Google no longer knows (404) or that
// belongs to another organisation (403) is left out: a deleted group grants nothing, which is
// exactly what the mapping stage does with a name that matches no pulled group.
import type { admin_directory_v1 } from "@googleapis/admin";
import type { PulledGroup } from "../../snapshot/pulled-directory.ts";
import { mapBounded } from "./bounded-map.ts";
import { GROUP_FIELDS, GROUP_ITEM_FIELDS, toPulledGroup } from "./directory-mapping.ts";
import type { DirectorySession } from "./directory-session.ts";
import type { GoogleConnectionConfig } from "./google-connection.ts";
import { collectPages } from "./page-walk.ts";

export interface GroupScope {
  readonly groups: PulledGroup[];
  /** True when every group of the customer was listed (nothing outside the scope can be ours). */
  readonly complete: boolean;
}

export async function readGroupScope(session: DirectorySession, config: GoogleConnectionConfig): Promise<GroupScope> {
  const named = config.groupEmails ?? [];
  const complete = !config.groupQuery && named.length === 0;
  const found: admin_directory_v1.Schema$Group[] = [];
  if (complete || config.groupQuery) {
    const what = config.groupQuery ? `groups.list query ${config.groupQuery}` : "groups.list";
    const { directory, requests, customer } = session;
    found.push(...await collectPages(what, "groups", (pageToken) => requests.send({ what, pageToken },
      (options) => directory.groups.list({ customer, maxResults: 200, fields: GROUP_FIELDS,
        ...(config.groupQuery ? { query: config.groupQuery } : {}), ...(pageToken ? { pageToken } : {}) }, options)),
    (page) => page.groups));
  }
  const fetched = await mapBounded(named, session.concurrency, (email) => getGroup(session, email));
  for (const group of fetched) if (group) found.push(group);
  const byId = new Map<string, PulledGroup>();
  for (const group of found) {
    const pulled = toPulledGroup(group);
    byId.set(pulled.sourceId, pulled);
  }
  return { groups: [...byId.values()], complete };
}

/** groups.get by id, email or alias; null when the group is gone or not this organisation's. */
export function getGroup(session: DirectorySession, groupKey: string): Promise<admin_directory_v1.Schema$Group | null> {
  const { directory, requests } = session;
  return requests.sendOrNull({ what: `groups.get ${groupKey}` },
    (options) => directory.groups.get({ groupKey, fields: GROUP_ITEM_FIELDS }, options), [403, 404]);
}
