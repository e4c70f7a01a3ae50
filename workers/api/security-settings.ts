// /v1/workspace/security, /v1/workspace/jwt, /retention, /dlp: the workspace's security
// settings. Admin scope; every change lands in the audit trail (see audit-logs.ts).
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { dlpPolicyProblem, dlpPolicySchema } from "../../core/dlp";
import { RelayError } from "../../core/errors";
import { jwtConfigSchema } from "../../core/jwt";
import { DEFAULT_RETENTION_DAYS } from "../../db/store/retention";
import { loadRe2 } from "../lazy-libs";
import type { WorkspaceSecurityRow } from "../../db/store/tenants";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses, errorSchema } from "./schemas";
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
  route({ method: "get", path: "/workspace/security", operationId: "workspace.getSecurity", summary: "JWT issuer, body retention and DLP policy", auth: "admin", responses: ok }),
  async (c) => c.json(view(await c.var.store.tenants.security(c.var.workspaceId)), 200),
);

securitySettingsApp.openapi(
  route({
    method: "put",
    path: "/workspace/jwt",
    operationId: "workspace.setJwtIssuer",
    summary: "Trust bearer JWTs from an identity provider (replaces any previous issuer)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: jwtConfigSchema, example: { issuer: "https://auth.clinic.example", audience: "relay", jwks_url: "https://auth.clinic.example/.well-known/jwks.json", allowed_scopes: ["send", "read"] } } }, required: true } },
    responses: { ...ok, 409: { description: "Issuer and audience already used by another workspace", content: { "application/json": { schema: errorSchema } } } },
  }),
  async (c) => {
    const config = c.req.valid("json");
    const ws = c.var.workspaceId;
    // One (issuer, audience) pair belongs to one workspace: otherwise another tenant could point
    // at the same identity provider and have its users' tokens land in their workspace.
    const audiences = new Set([config.audience].flat());
    for (const other of await c.var.store.tenants.crossTenantJwtIssuerWorkspaces(config.issuer)) {
      if (other.workspaceId === ws) continue;
      const theirs = [(other.jwt as { audience?: string | string[] } | null)?.audience ?? []].flat();
      if (theirs.some((a) => audiences.has(a))) {
        throw new RelayError("conflict", "this issuer and audience are already trusted by another workspace; use a distinct audience");
      }
    }
    const row = await c.var.store.tenants.upsertSecurity(ws, { jwt: config, jwtIssuer: config.issuer }, Date.now());
    return c.json(view(row), 200);
  },
);

securitySettingsApp.openapi(
  route({ method: "delete", path: "/workspace/jwt", operationId: "workspace.deleteJwtIssuer", summary: "Stop trusting JWTs", auth: "admin", responses: ok }),
  async (c) => c.json(view(await c.var.store.tenants.upsertSecurity(c.var.workspaceId, { jwt: null, jwtIssuer: null }, Date.now())), 200),
);

securitySettingsApp.openapi(
  route({
    method: "put",
    path: "/workspace/retention",
    operationId: "workspace.setRetention",
    summary: "How long message bodies, attachments and rendered copies are kept (metadata stays)",
    auth: "admin",
    request: {
      body: {
        content: { "application/json": { schema: z.object({ body_retention_days: z.number().int().min(1).max(3650) }).strict().openapi("Retention"), example: { body_retention_days: 30 } } },
        required: true,
      },
    },
    responses: ok,
  }),
  async (c) => {
    const days = c.req.valid("json").body_retention_days;
    return c.json(view(await c.var.store.tenants.upsertSecurity(c.var.workspaceId, { retentionDays: days }, Date.now())), 200);
  },
);

securitySettingsApp.openapi(
  route({
    method: "put",
    path: "/workspace/dlp",
    operationId: "workspace.setDlp",
    summary: "Forbidden identifiers in outgoing mail and what to do when one is found",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: dlpPolicySchema, example: { action: "reject", rules: [{ name: "ssn", pattern: "\\b\\d{3}-\\d{2}-\\d{4}\\b", fields: ["subject", "text", "html"] }] } } }, required: true } },
    responses: ok,
  }),
  async (c) => {
    const policy = c.req.valid("json");
    // Every pattern must compile on RE2. The schema cannot check it (the engine is loaded
    // lazily, core/dlp.ts), so it is checked here, with the same error as a schema failure.
    if (policy.rules.length > 0) {
      const problem = dlpPolicyProblem(await loadRe2(), policy);
      if (problem) throw new RelayError("validation_error", `${problem.path}: ${problem.message}`);
    }
    return c.json(view(await c.var.store.tenants.upsertSecurity(c.var.workspaceId, { dlp: policy }, Date.now())), 200);
  },
);
