// /v1/workspace/security, /v1/workspace/jwt, /retention, /dlp: the workspace's security
// settings. Admin scope; every change lands in the audit trail (see audit-logs.ts).
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { dlpPolicySchema } from "../../core/dlp";
import { jwtConfigSchema } from "../../core/jwt";
import { DEFAULT_RETENTION_DAYS } from "../../db/retention";
import { getWorkspaceSecurity, upsertWorkspaceSecurity, type WorkspaceSecurityRow } from "../../db/workspace-security";
import { keyPrincipal, requireScope } from "./auth";
import type { AppEnv } from "./context";
import { errorResponses } from "./schemas";
import { validationHook } from "./validation";

const securitySchema = z
  .object({
    jwt: z.record(z.string(), z.unknown()).nullable(),
    body_retention_days: z.number(),
    dlp: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("WorkspaceSecurity");

const view = (row: WorkspaceSecurityRow | undefined) => ({
  jwt: row?.jwt ?? null,
  body_retention_days: row?.retentionDays ?? DEFAULT_RETENTION_DAYS,
  dlp: row?.dlp ?? null,
});

const ok = { 200: { description: "The workspace's security settings", content: { "application/json": { schema: securitySchema } } }, ...errorResponses };

export const securitySettingsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

securitySettingsApp.openapi(
  createRoute({ method: "get", path: "/workspace/security", summary: "JWT issuer, body retention and DLP policy", middleware: [requireScope("admin")] as const, responses: ok }),
  async (c) => c.json(view(await getWorkspaceSecurity(c.var.db, keyPrincipal(c.var.principal).workspaceId)), 200),
);

securitySettingsApp.openapi(
  createRoute({
    method: "put",
    path: "/workspace/jwt",
    summary: "Trust bearer JWTs from an identity provider (replaces any previous issuer)",
    middleware: [requireScope("admin")] as const,
    request: { body: { content: { "application/json": { schema: jwtConfigSchema } }, required: true } },
    responses: ok,
  }),
  async (c) => {
    const config = c.req.valid("json");
    const row = await upsertWorkspaceSecurity(c.var.db, keyPrincipal(c.var.principal).workspaceId, { jwt: config, jwtIssuer: config.issuer }, Date.now());
    return c.json(view(row), 200);
  },
);

securitySettingsApp.openapi(
  createRoute({ method: "delete", path: "/workspace/jwt", summary: "Stop trusting JWTs", middleware: [requireScope("admin")] as const, responses: ok }),
  async (c) => c.json(view(await upsertWorkspaceSecurity(c.var.db, keyPrincipal(c.var.principal).workspaceId, { jwt: null, jwtIssuer: null }, Date.now())), 200),
);

securitySettingsApp.openapi(
  createRoute({
    method: "put",
    path: "/workspace/retention",
    summary: "How long message bodies, attachments and rendered copies are kept (metadata stays)",
    middleware: [requireScope("admin")] as const,
    request: {
      body: {
        content: { "application/json": { schema: z.object({ body_retention_days: z.number().int().min(1).max(3650) }).strict().openapi("Retention") } },
        required: true,
      },
    },
    responses: ok,
  }),
  async (c) => {
    const days = c.req.valid("json").body_retention_days;
    return c.json(view(await upsertWorkspaceSecurity(c.var.db, keyPrincipal(c.var.principal).workspaceId, { retentionDays: days }, Date.now())), 200);
  },
);

securitySettingsApp.openapi(
  createRoute({
    method: "put",
    path: "/workspace/dlp",
    summary: "Forbidden identifiers in outgoing mail and what to do when one is found",
    middleware: [requireScope("admin")] as const,
    request: { body: { content: { "application/json": { schema: dlpPolicySchema } }, required: true } },
    responses: ok,
  }),
  async (c) => {
    const policy = c.req.valid("json");
    return c.json(view(await upsertWorkspaceSecurity(c.var.db, keyPrincipal(c.var.principal).workspaceId, { dlp: policy }, Date.now())), 200);
  },
);
