import { describe, expect, test } from "vitest";
import { MIN_SUSPICIOUS_DROP, suspiciousDrop } from "../../src/snapshot/drop-guard.ts";

describe("the drop check before a pull is written", () => {
  test("the first pull is believed unless it is empty", () => {
    expect(suspiciousDrop(null, { users: 50, memberships: 0 }, 20)).toBeNull();
    expect(suspiciousDrop(null, { users: 0, memberships: 0 }, 20)).toMatch(/no active users/);
  });
  test("an empty answer after a good pull is refused, whatever the limit", () => {
    expect(suspiciousDrop({ users: 3, memberships: 3 }, { users: 0, memberships: 0 }, 100)).toMatch(/no active users/);
  });
  test("more than the limit fewer users or memberships is refused; the limit itself is not", () => {
    expect(suspiciousDrop({ users: 1000, memberships: 5000 }, { users: 800, memberships: 4000 }, 20)).toBeNull();
    expect(suspiciousDrop({ users: 1000, memberships: 5000 }, { users: 799, memberships: 5000 }, 20)).toMatch(/users in scope fell from 1000 to 799 \(20.1 %/);
    expect(suspiciousDrop({ users: 1000, memberships: 5000 }, { users: 1000, memberships: 3000 }, 20)).toMatch(/memberships in scope fell/);
  });
  test(`a drop of fewer than ${MIN_SUSPICIOUS_DROP} is ordinary churn in a small directory`, () => {
    expect(suspiciousDrop({ users: 7, memberships: 7 }, { users: 5, memberships: 5 }, 20)).toBeNull();
    expect(suspiciousDrop({ users: 30, memberships: 30 }, { users: 20, memberships: 30 }, 20)).toMatch(/fell from 30 to 20/);
  });
  test("growth is never suspicious", () => {
    expect(suspiciousDrop({ users: 10, memberships: 10 }, { users: 5000, memberships: 9000 }, 0)).toBeNull();
  });
});
