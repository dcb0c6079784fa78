// What the SCIM endpoint's writes set off, wired in the shell (the sources stage may not import
// reconcile): a departure (a user deactivated or deleted) is reconciled before the IdP's answer, so
// when Okta or Entra read 200 the person's sessions, keys, invitations and grants are gone — or held
// by the removal brake, whose run and alert record it as any held run does. Every other write's
// reconcile request wakes the queue by NOTIFY (migration 20261202000022), which reconciles the people it names.
import type { Knex } from "knex";
import type { Logger } from "../log/logger.ts";
import type { ScimWriteHooks } from "../sources/scim/scim-router.ts";
import { reconcileAccount } from "../reconcile/reconcile-account.ts";
import { recordFailedRun } from "../reconcile/runs.ts";

export const DEPARTURE_TRIGGER = "departure";

export function scimWriteHooks(db: Knex, log: Logger, { reconcileDepartures = true }: { reconcileDepartures?: boolean }): ScimWriteHooks {
  return {
    async departed(accountId, idpUserIds) {
      // off: left to the queue, which the write's reconcile request wakes
      if (!reconcileDepartures) return;
      try {
        // the departed people only; the requests naming only them are answered, so the queue does not run them again
        const result = await reconcileAccount(db, accountId, { trigger: DEPARTURE_TRIGGER, scope: { idpUserIds, answersTheirRequests: true } });
        if (result.status === "held") log.warn({ accountId, runId: result.runId, idpUserIds, message: result.brake?.message }, "a departure's removals are held by the removal brake");
      } catch (error) {
        // the router answers 503 and logs; the failed run shows on the status page like the worker's
        await recordFailedRun(db, accountId, DEPARTURE_TRIGGER, error).catch(() => undefined);
        throw error;
      }
    },
  };
}
