// The worker thread of full-reconcile-thread.ts: its own pool on the same database and schema, the
// same reconcileAccount, one answer per request.
import { parentPort, workerData } from "node:worker_threads";
import { postgresKnex } from "../db/database.ts";
import { reconcileAccount } from "../reconcile/reconcile-account.ts";
import type { FullReconcileThreadData, ThreadAnswer, ThreadRequest } from "./full-reconcile-thread.ts";

const port = parentPort!;
const { url, schema } = workerData as FullReconcileThreadData;
const db = postgresKnex(url, schema);
const answer = (message: ThreadAnswer) => port.postMessage(message);

port.on("message", async (request: ThreadRequest) => {
  if ("close" in request) {
    await db.destroy().catch(() => undefined);
    answer({ id: request.id, closed: true });
    port.close();
    return;
  }
  try {
    const { runId, status, applied, withheld, appliedByType } = await reconcileAccount(db, request.accountId, { ...request.options, scope: "account" });
    answer({ id: request.id, summary: { runId, status, applied, withheld, appliedByType } });
  } catch (error) {
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    answer({ id: request.id, error: { name, message, stack } });
  }
});

// the modules above are loaded: the thread is ready for its first run
answer({ id: 0, ready: true });
