// The HTTP server every listener uses. Node's parser refuses some requests before express sees them:
// a request line and headers over its 16 KiB limit (431), a client too slow to send its headers (408),
// bytes that are not HTTP (400). Node's own answer is a bare status line; here a SCIM client gets the
// RFC 7644 error body it reads everywhere else, and any other client a problem document.
import http from "node:http";
import type { Duplex } from "node:stream";
import { SCIM_MEDIA_TYPE, SCIM_PATH } from "../sources/scim/scim-router.ts";
import { scimErrorBody } from "../sources/scim/scim-error.ts";
import { PROBLEM_MEDIA_TYPE, problemBody } from "./problem.ts";

interface ParserError extends Error {
  code?: string;
  /** The bytes the parser was reading when it gave up (Node sets this on parse errors). */
  rawPacket?: Buffer;
}

interface Refusal { status: number; reason: string; detail: string }

function refusalFor(error: ParserError): Refusal {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        reason: "Request Header Fields Too Large",
        detail: `the request line and headers exceed ${http.maxHeaderSize} bytes; send a long filter in the body of POST /.search (RFC 7644 §3.4.3)`,
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, reason: "Request Timeout", detail: "the request headers did not arrive in time" };
    default:
      return { status: 400, reason: "Bad Request", detail: "the request is not valid HTTP/1.1" };
  }
}

/** The request target, when the refused bytes begin with a request line (a later chunk does not). */
function requestTarget(packet: Buffer | undefined): string | undefined {
  const firstLine = packet?.subarray(0, 512).toString("latin1").split("\r\n", 1)[0];
  return firstLine?.match(/^[A-Z]+ (\S+)/)?.[1];
}

function answer(error: ParserError, socket: Duplex): void {
  const { status, reason, detail } = refusalFor(error);
  const target = requestTarget(error.rawPacket);
  // only SCIM clients send requests long enough to overflow (filters), so an unknown target is SCIM's
  const scim = target === undefined || target.startsWith(SCIM_PATH);
  const [type, body] = scim
    ? [SCIM_MEDIA_TYPE, scimErrorBody(status, detail)]
    : [`${PROBLEM_MEDIA_TYPE}; charset=utf-8`, problemBody(status, reason, detail)];
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

export function createHttpServer(): http.Server {
  // above the 60 s idle timeout of common load balancers, so they never reuse a socket we just closed
  const server = http.createServer({ keepAliveTimeout: 65_000 });
  server.on("clientError", (error: ParserError, socket: Duplex) => {
    const responding = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage?.headersSent;
    // a reset or closed socket, or one already carrying a response, has nobody left to answer
    if (error.code === "ECONNRESET" || !socket.writable || responding) {
      socket.destroy();
      return;
    }
    answer(error, socket);
  });
  return server;
}
