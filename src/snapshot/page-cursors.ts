// Where a sequential walk by startIndex stands: "the row at position N of this connection's list is
// (created_at, id)", remembered when a page ending at N is served, so the page starting at N + 1 is
// read by keyset instead of skipping N rows with OFFSET. SCIM paging is by index only (RFC 7644
// §3.4.2.4), and Okta's and Entra's imports walk 1, 101, 201, …; each page they ask for starts where
// the last one ended. In-process and small: a replica that did not serve the previous page, an
// expired entry or a jump falls back to OFFSET, which is still correct, just slower.
//
// Consistency: the RFC promises nothing across changes. A walk that continues from a cursor returns
// every user that lived through it exactly once, in order: users created meanwhile come after the
// cursor (created_at is the creation time) and appear at the end; users deleted behind it do not
// shift the pages after it, as they would with OFFSET (which then skips a user). The cost: an entry
// outlives its last use by up to TTL_MS (ten minutes), and a new walk landing on it after deletions
// continues from where the old walk stood rather than from the shifted offset.

export interface PageCursor {
  /** created_at as UTC ISO text with microseconds */
  readonly createdAt: string;
  readonly id: string;
}

const TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 10_000;

export class PageCursors {
  private readonly entries = new Map<string, { cursor: PageCursor; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The row at `position` (1-based) of the list `key`, when a page ending there was served lately. */
  get(key: string, position: number): PageCursor | undefined {
    const name = `${key}@${position}`;
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    this.entries.delete(name);
    if (this.now() - entry.at > TTL_MS) return undefined;
    // kept (a retried page finds it again), its time renewed and moved to the newest end
    this.entries.set(name, { cursor: entry.cursor, at: this.now() });
    return entry.cursor;
  }

  /** Remembers the row at `position`; the oldest entries go first when full. */
  set(key: string, position: number, cursor: PageCursor): void {
    const name = `${key}@${position}`;
    this.entries.delete(name);
    this.entries.set(name, { cursor, at: this.now() });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(oldest);
    }
  }
}

/** The process's cursors, shared by every list of every connection (keys name table and connection). */
export const pageCursors = new PageCursors();
