// Admin API errors as RFC 9457 problem details; domain errors map to statuses in one table.
import type { Response } from "express";
import { AccountNotFoundError, InvalidAccountInputError } from "../accounts/accounts.ts";
import { ConnectionNotFoundError } from "../accounts/connections.ts";
import { RulesDocumentError } from "../mapping/rules-document.ts";
import { ConnectionConfigError } from "../sources/connection-config.ts";
import { RunNotHeldError } from "../reconcile/runs.ts";

export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

export function problemBody(status: number, title: string, detail: string): Record<string, unknown> {
  return { type: "about:blank", title, status, detail };
}

export function sendProblem(res: Response, status: number, title: string, detail: string): void {
  res.status(status).type(PROBLEM_MEDIA_TYPE).send(problemBody(status, title, detail));
}

/** A known domain error's status, or undefined for an unexpected one. */
export function problemStatus(error: unknown): { status: number; title: string } | undefined {
  if (error instanceof AccountNotFoundError || error instanceof ConnectionNotFoundError || error instanceof NotFoundError) return { status: 404, title: "Not Found" };
  if (error instanceof RulesDocumentError) return { status: 422, title: "Invalid rules" };
  if (error instanceof ConnectionConfigError) return { status: 422, title: "Invalid connection settings" };
  if (error instanceof InvalidAccountInputError || error instanceof BadRequestError || error instanceof RunNotHeldError) return { status: 400, title: "Bad Request" };
  if ((error as { type?: string })?.type === "entity.parse.failed") return { status: 400, title: "Bad Request" };
  if ((error as { type?: string })?.type === "entity.too.large") return { status: 413, title: "Payload Too Large" };
  return undefined;
}
