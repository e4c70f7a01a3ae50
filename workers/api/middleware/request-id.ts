// Every request gets an id: Cloudflare's ray id when there is one (so our logs join theirs),
// else a random one. It is in every log line of the request and in the X-Request-Id answer
// header, which is what a client quotes when reporting a failure.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("requestId", id);
  await next();
  // Set after the handler: a response built by hand (the audit trail's 503) replaces c.res.
  c.header("X-Request-Id", id);
});
