// Replicas share their counts of a slot's full reconciles through the database (replica-shares.ts):
// the one ahead lets a few fetches pass and then takes the job; a restarted replica goes on from its count.
import { afterAll, beforeAll, expect, test } from "vitest";
import { openTestDatabase, type TestDatabase } from "../support/test-database.ts";
import { createLogger } from "../../src/log/logger.ts";
import { FULL_RECONCILE_FLAG, ReplicaShares } from "../../src/scheduler/replica-shares.ts";
import { MAX_YIELDS_IN_A_ROW } from "../../src/scheduler/fair-share.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(() => db.close());

const log = createLogger("silent");
const shares = (replica: string) => new ReplicaShares({ db: db.knex, log, replica });

test("the replica ahead yields MAX_YIELDS_IN_A_ROW fetches, then takes one; once the others caught up it yields none", async () => {
  const slot = new Date(Date.UTC(2026, 11, 2, 12, 0)).toISOString();
  const [a, b] = [shares("share-a"), shares("share-b")];
  for (let i = 0; i < 10; i++) a.ran(slot);
  b.ran(slot);
  await a.sync();
  await b.sync();
  await a.sync();
  expect(b.forbidden()).toBeNull();
  const fetches = Array.from({ length: MAX_YIELDS_IN_A_ROW + 2 }, () => a.forbidden());
  expect(fetches).toEqual([...Array.from({ length: MAX_YIELDS_IN_A_ROW }, () => [FULL_RECONCILE_FLAG]), null, [FULL_RECONCILE_FLAG]]);

  for (let i = 0; i < 9; i++) b.ran(slot);
  await b.sync();
  await a.sync();
  expect(a.forbidden()).toBeNull();

  // share-a restarted: its new process goes on from the 10 it had run, not from 0
  const restarted = shares("share-a");
  restarted.ran(slot);
  await restarted.sync();
  const rows = (await db.knex.raw(`select replica, full_runs from replica_shares order by replica`)).rows;
  expect(rows).toEqual([{ replica: "share-a", full_runs: 11 }, { replica: "share-b", full_runs: 10 }]);

  // a new slot starts every count from 0
  const next = new Date(Date.UTC(2026, 11, 2, 12, 10)).toISOString();
  restarted.ran(next);
  await restarted.sync();
  expect((await db.knex.raw(`select full_runs from replica_shares where replica = 'share-a'`)).rows).toEqual([{ full_runs: 1 }]);
});
