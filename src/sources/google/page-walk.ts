// Follows a Directory API listing to its end and refuses anything but a whole answer. Google omits
// the collection key when a listing is empty, so a single page without it is "none"; a page without
// it that was promised by a nextPageToken (or that promises more) is Google's "200 with missing
// data", and a token seen twice is a loop: both are IncompletePullError, never a short list.
import { IncompletePullError } from "../pull-errors.ts";

export interface ListPage {
  readonly nextPageToken?: string | null;
}

/** All items of a listing; `key` names the collection (`users`, `groups`, `members`). */
export async function collectPages<P extends ListPage, I>(
  what: string,
  key: string,
  fetchPage: (pageToken: string | undefined) => Promise<P>,
  itemsOf: (page: P) => I[] | null | undefined,
): Promise<I[]> {
  const items: I[] = [];
  await walkPages(what, key, fetchPage, itemsOf, async (list) => { items.push(...list); });
  return items;
}

/**
 * The same walk, handing each page's items to `onPage` before the next page is requested (a streaming pull keeps
 * one page in memory, and a slow consumer slows the walk down); returns how many items there were.
 */
export async function walkPages<P extends ListPage, I>(
  what: string,
  key: string,
  fetchPage: (pageToken: string | undefined) => Promise<P>,
  itemsOf: (page: P) => I[] | null | undefined,
  onPage: (items: I[]) => Promise<void>,
): Promise<number> {
  let count = 0;
  const seen = new Set<string>();
  let pageToken: string | undefined;
  for (;;) {
    const page = await fetchPage(pageToken);
    const list: unknown = itemsOf(page);
    const next = page.nextPageToken || undefined;
    if (list === undefined || list === null) {
      if (pageToken !== undefined || next !== undefined) {
        throw new IncompletePullError(`${what}: a page ${pageToken ? "reached by nextPageToken" : "promising more"} had no "${key}"`);
      }
    } else if (!Array.isArray(list)) {
      throw new IncompletePullError(`${what}: "${key}" is not a list`);
    } else {
      count += list.length;
      await onPage(list as I[]);
    }
    if (next === undefined) return count;
    if (seen.has(next)) throw new IncompletePullError(`${what}: nextPageToken repeated; the listing loops`);
    seen.add(next);
    pageToken = next;
  }
}
