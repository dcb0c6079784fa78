// LISTEN on PostgreSQL needs a session of its own that stays open (a pooled connection goes back to
// the pool and its LISTEN with it). A dropped session is reopened with a growing pause; notifications
// sent while it was down are lost, so the listener is told to catch up (`onMessage("")`) each time it
// is back — the rows that caused them are still in their tables.
import pg from "pg";

export async function listenOnPostgres(url: string, channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let closed = false;
  let pauseMs = 500;
  const open = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, application_name: "idsync-listener" });
    next.on("notification", (message) => onMessage(message.payload ?? ""));
    next.on("error", () => reopen(next));
    await next.connect();
    await next.query(`listen "${channel.replaceAll('"', '""')}"`);
    client = next;
    pauseMs = 500;
  };
  const reopen = (broken: pg.Client): void => {
    if (closed || client !== broken) return;
    client = undefined;
    void broken.end().catch(() => undefined);
    setTimeout(function retry() {
      if (closed) return;
      open().then(() => onMessage(""), () => {
        pauseMs = Math.min(30_000, pauseMs * 2);
        setTimeout(retry, pauseMs);
      });
    }, pauseMs);
  };
  await open();
  return async () => {
    closed = true;
    await client?.end().catch(() => undefined);
  };
}
