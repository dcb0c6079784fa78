// A real HTTP receiver for webhook tests: records every request (headers, raw body) and answers with
// the statuses it is told to, in order (then 200).
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = number | "hang" | { status: number; headers: Record<string, string> };

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Answers for the next requests, in order ("hang": never answer); afterwards every request gets 200. */
  answer(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const replies: Reply[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const reply = replies.shift() ?? 200;
      if (reply === "hang") return;
      const { status, headers } = typeof reply === "number" ? { status: reply, headers: {} } : reply;
      res.writeHead(status, headers).end(status < 300 ? "ok" : "no");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    answer: (...r) => void replies.push(...r),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
