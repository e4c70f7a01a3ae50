// The access log: one line per request, ids and codes only. The path holds ids, never
// addresses, and the query string is left out (it can carry an envelope).
import { createMiddleware } from "hono/factory";
import { log } from "../../log";
import type { AppEnv } from "../context";

export const accessLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  const p = c.get("principal");
  log.info("request", {
    request_id: c.var.requestId,
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    ms: Date.now() - started,
    workspace_id: c.var.workspaceId ?? null,
    auth: p ? (p.kind === "admin" ? "platform_admin" : p.kind) : null,
  });
});
