// GET /v1/audit-logs: a workspace admin reads the audit trail (rows are written by the
// audit-trail middleware, workers/api/middleware/audit-trail.ts, and never changed).
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuditRow } from "../../db/store/audit";
import type { AppEnv } from "./context";
import { route } from "./route";
import { pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { errorResponses, iso } from "./schemas";
import { validationHook } from "./validation";

const auditSchema = z
  .object({
    id: z.string(),
    actor: z.string(),
    credential_id: z.string().nullable(),
    action: z.string(),
    resource: z.string(),
    ip: z.string().nullable(),
    outcome: z.enum(["success", "denied", "error"]),
    request_id: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi("AuditLog");

const view = (r: AuditRow) => ({
  id: r.id,
  actor: r.actor,
  credential_id: r.credentialId,
  action: r.action,
  resource: r.resource,
  ip: r.ip,
  outcome: r.outcome,
  request_id: r.requestId,
  detail: r.detail,
  created_at: iso(r.createdAt)!,
});

const cursor = timeIdCursor("createdAt", "aud");

const dateParam = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date-time")
  .optional();

export const auditLogsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

auditLogsApp.openapi(
  route({
    method: "get",
    path: "/audit-logs",
    operationId: "auditLogs.list",
    summary: "This workspace's audit trail, newest first (read-only: rows are never changed or removed)",
    auth: "admin",
    request: {
      query: z
        .object({ action: z.string().max(100).optional(), since: dateParam, until: dateParam })
        .extend(pageQuery({ max: 200, fallback: 50 }).shape),
    },
    responses: {
      200: {
        description: "A page of audit rows",
        content: { "application/json": { schema: pageSchema(auditSchema) } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { page, next_cursor } = await readPage(q, cursor, (before, limit) =>
      c.var.store.audit.list(c.var.workspaceId, {
        ...(q.action ? { action: q.action } : {}),
        ...(q.since ? { since: Date.parse(q.since) } : {}),
        ...(q.until ? { until: Date.parse(q.until) } : {}),
        ...(before ? { before } : {}),
        limit,
      }),
    );
    return c.json({ data: page.map(view), next_cursor }, 200);
  },
);
