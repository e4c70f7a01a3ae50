// The request's drizzle handle over D1, made once and shared by auth, handlers and the audit trail.
import { createMiddleware } from "hono/factory";
import { getDb } from "../../../db/client";
import type { AppEnv } from "../context";

export const database = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", getDb(c.env.DB));
  await next();
});
