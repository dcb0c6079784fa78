// Admin API for webhooks: create an endpoint for an account, list them with their delivery counts,
// review one endpoint's deliveries, and disable it.
import express from "express";
import type { Knex } from "knex";
import { findAccount } from "../../accounts/accounts.ts";
import { checkNewWebhook, InvalidWebhookError } from "../../webhooks/webhook-input.ts";
import {
  createWebhookEndpoint, DELIVERY_STATUSES, disableWebhookEndpoint, findWebhookEndpoint, listDeliveries, listWebhookEndpoints,
  type DeliveryStatus, type WebhookEndpoint,
} from "../../webhooks/webhook-endpoints.ts";
import { BadRequestError, NotFoundError } from "../problem.ts";

type Actor = (req: express.Request) => string;

export function webhookRoutes(db: Knex, actorOf: Actor): express.Router {
  const router = express.Router();
  const endpointOf = async (req: express.Request): Promise<WebhookEndpoint> => {
    const endpoint = await findWebhookEndpoint(db, String(req.params.id));
    if (!endpoint) throw new NotFoundError(`no webhook ${req.params.id}`);
    return endpoint;
  };

  router.post("/accounts/:slug/webhooks", async (req, res) => {
    const account = await findAccount(db, String(req.params.slug));
    let input;
    try {
      input = checkNewWebhook(req.body ?? {});
    } catch (error) {
      if (error instanceof InvalidWebhookError) throw new BadRequestError(error.message);
      throw error;
    }
    res.status(201).json({ webhook: await createWebhookEndpoint(db, account.id, input, actorOf(req)) });
  });

  router.get("/accounts/:slug/webhooks", async (req, res) => {
    const account = await findAccount(db, String(req.params.slug));
    res.json({ webhooks: await listWebhookEndpoints(db, account.id) });
  });

  router.get("/webhooks/:id/deliveries", async (req, res) => {
    const endpoint = await endpointOf(req);
    const status = req.query.status;
    if (status !== undefined && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) throw new BadRequestError("status must be pending, delivered or failed");
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BadRequestError("limit must be a whole number from 1 to 1000");
    res.json({ deliveries: await listDeliveries(db, endpoint.id, { status: status as DeliveryStatus | undefined, limit }) });
  });

  router.post("/webhooks/:id/disable", async (req, res) => {
    res.json({ webhook: await disableWebhookEndpoint(db, await endpointOf(req), actorOf(req)) });
  });
  return router;
}
