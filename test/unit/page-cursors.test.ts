// The cursors of sequential startIndex walks (src/snapshot/page-cursors.ts): found again for the
// position a page ended at, also when that page is asked for twice; forgotten after their time or
// when the oldest must make room.
import { expect, test } from "vitest";
import { PageCursors } from "../../src/snapshot/page-cursors.ts";

const cursor = (n: number) => ({ createdAt: `2026-12-02T00:00:00.${String(n).padStart(6, "0")}Z`, id: `id-${n}` });

test("a cursor is found for its list and position only, and again when the page is retried", () => {
  const cursors = new PageCursors(() => 0);
  cursors.set("idp_users:a", 100, cursor(100));
  expect(cursors.get("idp_users:a", 100)).toEqual(cursor(100));
  expect(cursors.get("idp_users:a", 100)).toEqual(cursor(100));
  expect(cursors.get("idp_users:a", 200)).toBeUndefined();
  expect(cursors.get("idp_users:b", 100)).toBeUndefined();
  expect(cursors.get("idp_groups:a", 100)).toBeUndefined();
});

test("a cursor left unused for ten minutes is forgotten", () => {
  let now = 0;
  const cursors = new PageCursors(() => now);
  cursors.set("k", 100, cursor(1));
  now = 10 * 60_000;
  expect(cursors.get("k", 100)).toEqual(cursor(1));
  now = 20 * 60_000 + 1;
  expect(cursors.get("k", 100)).toBeUndefined();
});

test("past 10,000 cursors the least recently used go first", () => {
  const cursors = new PageCursors(() => 0);
  for (let n = 1; n <= 10_000; n++) cursors.set("k", n, cursor(n));
  expect(cursors.get("k", 1)).toEqual(cursor(1)); // used: now the newest
  cursors.set("k", 10_001, cursor(10_001));
  expect(cursors.get("k", 2)).toBeUndefined();
  expect(cursors.get("k", 1)).toEqual(cursor(1));
  expect(cursors.get("k", 10_001)).toEqual(cursor(10_001));
});
