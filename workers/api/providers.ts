// /v1/providers: the workspace's delivery providers. Credentials are write-only: validated per
// type, encrypted at rest, never returned.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../../core/config";
import { credentialsAad, encryptText, loadKeyring } from "../../core/crypto";
import { RelayError, notFound } from "../../core/errors";
import type { Principal } from "../../core/scopes";
import { newId } from "../../core/ids";
import type { AuditStore } from "../../db/store/audit";
import type { HealthCheckRow } from "../../db/store/health";
import type { ProviderRow } from "../../db/store/providers";
import { quotaFor } from "../../core/limits/quota";
import { getProviderState } from "../../durable-objects/provider-state";
import { ALL_PROVIDER_TYPES, providerType } from "../dispatcher/providers/registry";
import { checkProviderNow } from "../health-checks";
import { actorOf, recordAudit } from "../audit";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

const BAA_DESCRIPTION =
  "The workspace's declaration that a Business Associate Agreement covers this provider (default false). A message flagged as containing PHI (contains_phi, or the DLP flag) is delivered only through covered providers that also meet routing.require_tls: it never fails over or force-sends to another one, waits while the covered ones are unavailable, and fails when none is configured. Setting and withdrawing it are audited (provider.baa_declared / provider.baa_withdrawn). The relay does not verify the agreement.";

const common = {
  name: z.string().min(1).max(100),
  priority: z.number().int().min(0).max(10_000).optional(),
  weight: z.number().int().min(0).max(1000).optional(),
  enabled: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  credentials: z.record(z.string(), z.unknown()).optional().openapi({ description: "Write-only; never returned" }),
  baa_covered: z.boolean().optional().openapi({ description: BAA_DESCRIPTION }),
  quota: z
    .object({
      daily: z.number().int().min(0).max(100_000_000).nullable().optional(),
      per_second: z.number().int().min(1).max(100_000).nullable().optional(),
    })
    .strict()
    .optional()
    .openapi({ description: "Recipients per UTC day / per second this provider may take; null restores the type's default (Gmail 2,000/day, Mailgun 100,000/day)" }),
};

export const createProviderInput = z.object({ ...common, type: z.enum(ALL_PROVIDER_TYPES) }).strict().openapi("CreateProvider");
const updateProviderInput = z.object({ ...common, name: common.name.optional() }).strict().openapi("UpdateProvider");

const providerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    enabled: z.boolean(),
    priority: z.number(),
    weight: z.number(),
    baa_covered: z.boolean().openapi({ description: BAA_DESCRIPTION }),
    config: z.record(z.string(), z.unknown()),
    has_credentials: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Provider");

const breakerSchema = z
  .object({
    state: z.enum(["closed", "open", "half_open"]),
    consecutive_failures: z.number(),
    recent_calls: z.number(),
    recent_success_rate: z.number().nullable(),
    latency_ms: z.number().nullable(),
    in_flight: z.number(),
    opened_at: z.string().nullable(),
    changed_at: z.string(),
    last_failure_at: z.string().nullable(),
  })
  .openapi("ProviderHealth");

const healthCheckSchema = z
  .object({
    status: z.enum(["healthy", "degraded", "unhealthy"]),
    latency_ms: z.number().nullable(),
    detail: z.string().nullable(),
    checked_at: z.string(),
  })
  .openapi("ProviderHealthCheck");

const providerWithHealthSchema = providerSchema
  .extend({ quota: z.object({ daily: z.number().nullable(), per_second: z.number().nullable() }).optional(), breaker: breakerSchema, health: healthCheckSchema.nullable().openapi({ description: "The latest health check; null before the first" }) })
  .openapi("ProviderWithHealth");

const healthView = (h: HealthCheckRow | undefined) =>
  h ? { status: h.status, latency_ms: h.latencyMs, detail: h.detail, checked_at: iso(h.checkedAt)! } : null;

/** Live breaker state and recent performance, from the provider's Durable Object. */
async function health(env: Env, p: ProviderRow) {
  const s = await getProviderState(env, p.workspaceId, p.id).snapshot(p.workspaceId, p.id);
  return {
    state: s.state,
    consecutive_failures: s.consecutiveFailures,
    recent_calls: s.recentCalls,
    recent_success_rate: s.recentCalls ? (s.recentCalls - s.recentFailures) / s.recentCalls : null,
    latency_ms: s.latencyMs,
    in_flight: s.inFlight,
    opened_at: iso(s.openedAt),
    changed_at: iso(s.changedAt)!,
    last_failure_at: iso(s.lastFailureAt),
  };
}

const view = (p: ProviderRow) => ({
  id: p.id,
  name: p.name,
  type: p.type,
  enabled: p.status === "enabled",
  priority: p.priority,
  weight: p.weight,
  baa_covered: p.baaCovered,
  config: p.config,
  has_credentials: p.credentialsEnc !== null,
  created_at: iso(p.createdAt)!,
  updated_at: iso(p.updatedAt)!,
});

function validateAs(type: string, field: "config" | "credentials", value: unknown): Record<string, unknown> {
  const t = providerType(type);
  const parsed = t[field].safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RelayError("validation_error", `${[field, ...issue.path].join(".")}: ${issue.message}`);
  }
  return parsed.data as Record<string, unknown>;
}

/** The BAA declaration decides whether PHI may go to a provider: setting and withdrawing it get their own audit row. */
async function auditBaa(audit: AuditStore, principal: Principal, row: ProviderRow, ip: string | null, requestId: string): Promise<void> {
  await recordAudit(audit, {
    ...actorOf(principal),
    action: row.baaCovered ? "provider.baa_declared" : "provider.baa_withdrawn",
    resource: `provider:${row.id}`,
    ip,
    outcome: "success",
    requestId,
    detail: { provider_id: row.id, name: row.name, type: row.type },
  });
}


export async function sealCredentials(env: Env, workspaceId: string, providerId: string, credentials: Record<string, unknown>) {
  if (Object.keys(credentials).length === 0) return null;
  const ring = await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);
  return encryptText(ring, JSON.stringify(credentials), credentialsAad(workspaceId, providerId));
}

export const providersApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

providersApp.openapi(
  route({
    method: "post",
    path: "/providers",
    operationId: "providers.create",
    summary: "Add a delivery provider",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: createProviderInput, example: { name: "Mailgun EU", type: "mailgun", priority: 10, baa_covered: true, config: { domain: "mg.clinic.example", region: "eu" }, credentials: { api_key: "key-0000example" } } } }, required: true } },
    responses: { 201: { description: "Created", content: { "application/json": { schema: providerSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const input = c.req.valid("json");
    const id = newId("prv");
    const config = validateAs(input.type, "config", input.config);
    const credentials = validateAs(input.type, "credentials", input.credentials);
    const row = await c.var.store.providers.create(ws, {
      id,
      name: input.name,
      type: input.type,
      config,
      credentialsEnc: await sealCredentials(c.env, ws, id, credentials),
      status: input.enabled === false ? "disabled" : "enabled",
      priority: input.priority ?? 100,
      weight: input.weight ?? 1,
      baaCovered: input.baa_covered ?? false,
    });
    if (input.quota) await c.var.store.providers.setQuota(ws, id, input.quota);
    if (row.baaCovered) await auditBaa(c.var.store.audit, c.var.principal, row, c.req.header("cf-connecting-ip") ?? null, c.var.requestId);
    return c.json(view(row), 201);
  },
);

providersApp.openapi(
  route({
    method: "get",
    path: "/providers",
    operationId: "providers.list",
    summary: "List providers in priority order, with breaker state, recent success rate and latency",
    auth: "admin",
    responses: { 200: { description: "Providers", content: { "application/json": { schema: z.object({ data: z.array(providerWithHealthSchema) }) } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const { store } = c.var;
    const rows = await store.providers.list(ws);
    const [checks, quotas] = await Promise.all([store.health.latest(ws, rows.map((p) => p.id)), store.providers.quotas(ws)]);
    return c.json(
      {
        data: await Promise.all(
          rows.map(async (p) => {
            const q = quotaFor(p.type, quotas.filter((r) => r.providerId === p.id));
            return { ...view(p), quota: { daily: q.daily, per_second: q.perSecond }, breaker: await health(c.env, p), health: healthView(checks.get(p.id)) };
          }),
        ),
      },
      200,
    );
  },
);

providersApp.openapi(
  route({
    method: "post",
    path: "/providers/{id}/breaker/reset",
    operationId: "providers.resetBreaker",
    summary: "Close a provider's circuit breaker now (after fixing what tripped it)",
    auth: "admin",
    request: { params: idParam },
    responses: { 200: { description: "Reset", content: { "application/json": { schema: providerWithHealthSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await c.var.store.providers.get(ws, c.req.valid("param").id);
    if (!row) throw notFound("provider");
    await getProviderState(c.env, ws, row.id).reset(ws, row.id);
    const checks = await c.var.store.health.latest(ws, [row.id]);
    return c.json({ ...view(row), breaker: await health(c.env, row), health: healthView(checks.get(row.id)) }, 200);
  },
);

providersApp.openapi(
  route({
    method: "post",
    path: "/providers/{id}/health-check",
    operationId: "providers.checkHealth",
    summary: "Probe a provider now (also a disabled one), record the result and return it",
    auth: "admin",
    request: { params: idParam },
    responses: { 200: { description: "The check just made", content: { "application/json": { schema: healthCheckSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const row = await c.var.store.providers.get(c.var.workspaceId, c.req.valid("param").id);
    if (!row) throw notFound("provider");
    return c.json(healthView(await checkProviderNow(c.env, c.var.store.health, row))!, 200);
  },
);

providersApp.openapi(
  route({
    method: "patch",
    path: "/providers/{id}",
    operationId: "providers.update",
    summary: "Change a provider (credentials are replaced whole when given)",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: updateProviderInput, example: { priority: 20, enabled: false } } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: providerSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const input = c.req.valid("json");
    const existing = await c.var.store.providers.get(ws, id);
    if (!existing) throw notFound("provider");
    const row = await c.var.store.providers.update(
      ws,
      id,
      {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
        ...(input.weight !== undefined ? { weight: input.weight } : {}),
        ...(input.baa_covered !== undefined ? { baaCovered: input.baa_covered } : {}),
        ...(input.enabled !== undefined ? { status: input.enabled ? ("enabled" as const) : ("disabled" as const) } : {}),
        ...(input.config !== undefined ? { config: validateAs(existing.type, "config", input.config) } : {}),
        ...(input.credentials !== undefined
          ? { credentialsEnc: await sealCredentials(c.env, ws, id, validateAs(existing.type, "credentials", input.credentials)) }
          : {}),
      },
      Date.now(),
    );
    if (!row) throw notFound("provider");
    if (input.quota) await c.var.store.providers.setQuota(ws, id, input.quota);
    if (row.baaCovered !== existing.baaCovered) await auditBaa(c.var.store.audit, c.var.principal, row, c.req.header("cf-connecting-ip") ?? null, c.var.requestId);
    return c.json(view(row), 200);
  },
);

providersApp.openapi(
  route({
    method: "delete",
    path: "/providers/{id}",
    operationId: "providers.delete",
    summary: "Remove a provider",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    if (!(await c.var.store.providers.delete(c.var.workspaceId, c.req.valid("param").id))) throw notFound("provider");
    return c.body(null, 204);
  },
);
