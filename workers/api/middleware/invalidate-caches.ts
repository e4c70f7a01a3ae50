// A configuration write (key, domain, provider, setting, webhook endpoint, ...) through this
// isolate is seen by its next accept at once (workers/isolate-cache.ts). Sending mail is not a
// configuration write, so submissions keep the caches warm.
import { createMiddleware } from "hono/factory";
import { invalidateIsolateCaches } from "../../isolate-cache";
import type { AppEnv } from "../context";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const invalidateCachesOnWrite = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!SAFE_METHODS.has(c.req.method) && !c.req.path.startsWith("/v1/messages")) invalidateIsolateCaches();
});
