// The request's store (db/store/store.ts, the backend STORE names), opened once and shared by
// auth, handlers and the audit trail, and closed when the request's work is done (on MySQL that
// ends its connection; Hyperdrive pools behind it). `db`, the drizzle handle over D1, remains for
// the callers not yet moved onto the store.
import { createMiddleware } from "hono/factory";
import { getDb } from "../../../db/client";
import { openRelayStore } from "../../store";
import type { AppEnv } from "../context";

export const database = createMiddleware<AppEnv>(async (c, next) => {
  const db = getDb(c.env.DB);
  const store = openRelayStore(c.env, { db });
  c.set("db", db);
  c.set("store", store);
  try {
    await next();
  } finally {
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
