// How an audit row reads: ids named where a name is known (target, domains, owners, the connection),
// left as they are where none is, and the row's own fields untouched.
import { expect, test } from "vitest";
import { idsIn, readableAudit, type AuditNames, type AuditRow } from "../../src/audit/audit-names.ts";

const U1 = "11111111-1111-4111-8111-111111111111";
const U2 = "22222222-2222-4222-8222-222222222222";
const D1 = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";
const GONE = "99999999-9999-4999-8999-999999999999";
const C1 = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

const row = (extra: Partial<AuditRow>): AuditRow => ({ id: 1, occurred_at: "2026-12-02T08:00:00Z", actor: "reconciler", action: "x", target_type: "user",
  target_id: U1, before: null, after: null, connection_id: null, rule: null, run_id: null, ...extra });
const names: AuditNames = {
  users: new Map([[U1, "ada@example.com"], [U2, "bo@example.com"]]), domains: new Map([[D1, "example.com"]]),
  connections: new Map([[C1, "Okta"]]), keys: new Map(), accounts: new Map(),
};

test("an ownership transfer names both owners; a key narrowing names the domains it lost, unknown ones by id", () => {
  const transfer = row({ action: "owner.transferred", target_type: "account", target_id: "acct", before: { owner: U1 }, after: { owner: U2 }, connection_id: C1 });
  const narrowed = row({ action: "key.narrowed", target_type: "api_key", target_id: GONE, after: { removedDomainIds: [D1, GONE] } });
  const [t, n] = readableAudit([transfer, narrowed], names);
  expect(t).toMatchObject({ target_name: null, change: "owner: ada@example.com → owner: bo@example.com", names: { [U1]: "ada@example.com", [U2]: "bo@example.com", [C1]: "Okta" },
    before: { owner: U1 }, after: { owner: U2 } });
  expect(n).toMatchObject({ target_name: null, change: `— → removed domains: example.com, ${GONE}`, names: { [D1]: "example.com" } });
});

test("the ids a page mentions are collected by kind, for one lookup each", () => {
  const ids = idsIn([row({ before: { domainId: D1 }, after: { userId: U2 }, connection_id: C1 }), row({ target_type: "alert", target_id: "owner_missing" })]);
  expect({ users: [...ids.users], domains: [...ids.domains], connections: [...ids.connections] }).toEqual({ users: [U1, U2], domains: [D1], connections: [C1] });
});
