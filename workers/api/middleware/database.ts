// The request's store (db/store/store.ts, the backend STORE names), opened once and shared by
// auth, handlers and the audit trail, and closed when the request's work is done (on MySQL that
// ends its connection; Hyperdrive pools behind it). Nothing else in a request touches the database.
//
// D1 read replication (the Sessions API) is for the clients that ask for it: a request that sends
// `Relay-Bookmark` (the last bookmark it got, or `first-primary` to start) runs in a session, and
// its answer carries the session's bookmark. A replica serves it only if the replica is at least
// that new, so the client still sees everything it wrote (a message it just sent, a key it just
// made). A request without the header reads the primary through the plain binding and gets no
// bookmark: a client that knows nothing about bookmarks never reads stale data, and pays nothing
// for them (a session and its drizzle handle per request cost accept about 8% of its throughput).
import { createMiddleware } from "hono/factory";
import { getSessionDb } from "../../../db/client";
import { RelayError } from "../../../core/errors";
import { readConfig } from "../../../core/config";
import { openRelayStore } from "../../store";
import type { AppEnv } from "../context";

export const BOOKMARK_HEADER = "Relay-Bookmark";
// D1 bookmarks are dash-separated hex fields; `first-primary` starts a session on the primary.
// Anything else is refused before it reaches D1.
const BOOKMARK = /^[0-9a-f]{1,64}(-[0-9a-f]{1,64}){1,7}$/i;
export const FIRST_PRIMARY = "first-primary";

export const database = createMiddleware<AppEnv>(async (c, next) => {
  const bookmark = c.req.header(BOOKMARK_HEADER);
  if (bookmark !== undefined && bookmark !== FIRST_PRIMARY && !BOOKMARK.test(bookmark)) {
    throw new RelayError("validation_error", `${BOOKMARK_HEADER}: not a bookmark this API returned`);
  }
  const session = bookmark !== undefined && readConfig(c.env).store === "d1" ? c.env.DB.withSession(bookmark) : undefined;
  const store = openRelayStore(c.env, session ? { db: getSessionDb(session) } : {});
  c.set("store", store);
  try {
    await next();
  } finally {
    const latest = session?.getBookmark();
    if (latest) c.header(BOOKMARK_HEADER, latest);
    // After the answer. Work the handler left in waitUntil (webhook fan-out, audit) may still use
    // the store: it then opens a connection again, which ends with the invocation.
    const closing = store.close().catch(() => {});
    try {
      c.executionCtx.waitUntil(closing);
    } catch {
      // app.request() in tests has no execution context; the close runs on its own.
    }
  }
});
