// The embedded database has one session, shared by every pg client knex opens. When the driver sees the
// session break (here: a message the backend sent while no query was waiting for it, which is what the
// driver reported after PGlite's backend exited), no later query may be answered at all: a reconnect
// would read answers meant for earlier queries. The process is told once, so `idsync serve` can exit.
import { afterEach, expect, test } from "vitest";
import { EmbeddedDatabaseLostError, openPglite, type EmbeddedDatabase } from "../../src/db/embedded-pglite.ts";

let db: EmbeddedDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

interface RawPgClient { connection: { query(text: string): void }; once(event: "error", listener: (error: Error) => void): void }

test("after the session breaks every query fails with EmbeddedDatabaseLostError, and the owner hears of it once", async () => {
  const lost: EmbeddedDatabaseLostError[] = [];
  db = await openPglite({ onLost: (error) => lost.push(error) });
  const { knex } = db;
  await knex.raw("create table t (id int primary key, label text)");
  await knex.raw("insert into t values (1, 'one'), (2, 'two')");
  expect((await knex.raw("select label from t where id = 2")).rows).toEqual([{ label: "two" }]);

  // a query sent past the driver's queue: its answer arrives while the driver expects none
  const client = (await knex.client.acquireConnection()) as RawPgClient;
  const broken = new Promise<Error>((resolve) => client.once("error", resolve));
  client.connection.query("select label from t where id = 1");
  expect((await broken).message).toMatch(/unexpected .* message from backend/);
  await knex.client.releaseConnection(client);

  expect(lost).toHaveLength(1);
  expect(lost[0]!.message).toMatch(/restart idsync/);
  for (const sql of ["select label from t where id = 2", "select 1 as one", "insert into t values (3, 'three') returning id"]) {
    await expect(knex.raw(sql)).rejects.toThrow(EmbeddedDatabaseLostError);
  }
  await expect(knex.transaction(async (trx) => trx.raw("select 1"))).rejects.toThrow(EmbeddedDatabaseLostError);
  expect(lost).toHaveLength(1);
});

test("a healthy session never reports itself lost", async () => {
  const lost: unknown[] = [];
  db = await openPglite({ onLost: (error) => lost.push(error) });
  await expect(db.knex.raw("select 1/0")).rejects.toThrow(/division by zero/);
  await expect(db.knex.raw("select nope from nowhere")).rejects.toThrow(/does not exist/);
  expect((await db.knex.raw("select 7 as seven")).rows).toEqual([{ seven: 7 }]);
  expect(lost).toEqual([]);
});
