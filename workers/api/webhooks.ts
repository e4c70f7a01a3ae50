// /v1/webhooks: the workspace's webhook endpoints (the secret is shown once, at creation or
// rotation), the events queued for each with every delivery attempt, and replay.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { RelayError, notFound } from "../../core/errors";
import { newId } from "../../core/ids";
import { generateWebhookSecret } from "../../core/webhook-signature";
import type { WebhookEndpointRow } from "../../db/store/webhooks";
import { readConfig } from "../../core/config";
import { deliverNow } from "../webhooks/deliver";
import { sealSecret, WEBHOOK_EVENT_TYPES } from "../webhooks/events";
import { checkEndpointUrl } from "../webhooks/url-policy";
import type { AppEnv } from "./context";
import { pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { route } from "./route";
import { errorResponses, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

const eventTypes = z.array(z.enum([...WEBHOOK_EVENT_TYPES, "*"])).min(1).max(WEBHOOK_EVENT_TYPES.length + 1);

const createInput = z
  .object({
    url: z.string().min(1).max(2000),
    events: eventTypes.openapi({ description: 'Event types to receive; "*" for all' }),
    description: z.string().max(200).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("CreateWebhookEndpoint");

const updateInput = z
  .object({
    url: z.string().min(1).max(2000).optional(),
    events: eventTypes.optional(),
    description: z.string().max(200).nullable().optional(),
    enabled: z.boolean().optional(),
    rotate_secret: z.boolean().optional(),
  })
  .strict()
  .openapi("UpdateWebhookEndpoint");

const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    failing_since: z.string().nullable(),
    disabled_at: z.string().nullable(),
    disabled_reason: z.string().nullable(),
    created_at: z.string(),
    secret: z.string().optional().openapi({ description: "whsec_…; returned only when created or rotated" }),
  })
  .openapi("WebhookEndpoint");

const attemptSchema = z.object({
  attempt: z.number(),
  status_code: z.number().nullable(),
  latency_ms: z.number(),
  error: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  at: z.string(),
});

const eventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number(),
    next_attempt_at: z.string().nullable(),
    last_status_code: z.number().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    attempt_log: z.array(attemptSchema),
  })
  .openapi("WebhookEvent");

const eventCursor = timeIdCursor("createdAt", "wev");

const view = (e: WebhookEndpointRow, secret?: string) => ({
  id: e.id,
  url: e.url,
  events: e.events,
  description: e.description,
  enabled: e.enabled,
  failing_since: iso(e.failingSince),
  disabled_at: iso(e.disabledAt),
  disabled_reason: e.disabledReason,
  created_at: iso(e.createdAt)!,
  ...(secret ? { secret } : {}),
});

function checkedUrl(env: Env, url: string): string {
  const r = checkEndpointUrl(url, readConfig(env).webhooks.allowPrivateUrls);
  if (!r.ok) throw new RelayError("validation_error", `url: ${r.reason}`);
  return r.url.toString();
}

export const webhooksApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

webhooksApp.openapi(
  route({
    method: "post",
    path: "/webhooks",
    operationId: "webhooks.create",
    summary: "Add a webhook endpoint (the signing secret is returned once)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: createInput, example: { url: "https://ehr.clinic.example/hooks/relay", events: ["message.delivered", "message.bounced", "message.failed"] } } }, required: true } },
    responses: { 201: { description: "Created", content: { "application/json": { schema: endpointSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const input = c.req.valid("json");
    const id = newId("whe");
    const secret = generateWebhookSecret();
    const row = await c.var.store.webhooks.insertEndpoint(ws, {
      id,
      url: checkedUrl(c.env, input.url),
      events: [...new Set(input.events)],
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      secretEnc: await sealSecret(c.env, ws, id, secret),
    });
    return c.json(view(row, secret), 201);
  },
);

webhooksApp.openapi(
  route({
    method: "get",
    path: "/webhooks",
    operationId: "webhooks.list",
    summary: "List webhook endpoints",
    auth: "admin",
    responses: { 200: { description: "Endpoints", content: { "application/json": { schema: z.object({ data: z.array(endpointSchema) }) } } }, ...errorResponses },
  }),
  async (c) => c.json({ data: (await c.var.store.webhooks.listEndpoints(c.var.workspaceId)).map((e) => view(e)) }, 200),
);

webhooksApp.openapi(
  route({
    method: "get",
    path: "/webhooks/{id}",
    operationId: "webhooks.get",
    summary: "One webhook endpoint",
    auth: "admin",
    request: { params: idParam },
    responses: { 200: { description: "Endpoint", content: { "application/json": { schema: endpointSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const row = await c.var.store.webhooks.getEndpoint(c.var.workspaceId, c.req.valid("param").id);
    if (!row) throw notFound("webhook endpoint");
    return c.json(view(row), 200);
  },
);

webhooksApp.openapi(
  route({
    method: "patch",
    path: "/webhooks/{id}",
    operationId: "webhooks.update",
    summary: "Change an endpoint; re-enabling clears the disabled state; rotate_secret returns a new secret once",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: updateInput, example: { events: ["*"], rotate_secret: true } } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: endpointSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const input = c.req.valid("json");
    if (!(await c.var.store.webhooks.getEndpoint(ws, id))) throw notFound("webhook endpoint");
    const secret = input.rotate_secret ? generateWebhookSecret() : undefined;
    const row = await c.var.store.webhooks.updateEndpoint(
      ws,
      id,
      {
        ...(input.url !== undefined ? { url: checkedUrl(c.env, input.url) } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.enabled === true ? { disabledAt: null, disabledReason: null, failingSince: null } : {}),
        ...(secret ? { secretEnc: await sealSecret(c.env, ws, id, secret) } : {}),
      },
      Date.now(),
    );
    if (!row) throw notFound("webhook endpoint");
    return c.json(view(row, secret), 200);
  },
);

webhooksApp.openapi(
  route({
    method: "delete",
    path: "/webhooks/{id}",
    operationId: "webhooks.delete",
    summary: "Remove a webhook endpoint",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    if (!(await c.var.store.webhooks.deleteEndpoint(c.var.workspaceId, c.req.valid("param").id))) throw notFound("webhook endpoint");
    return c.body(null, 204);
  },
);

webhooksApp.openapi(
  route({
    method: "get",
    path: "/webhooks/{id}/events",
    operationId: "webhooks.listEvents",
    summary: "Events queued for an endpoint, newest first, each with its delivery attempts; filter by status to find one to replay",
    auth: "admin",
    request: {
      params: idParam,
      query: z
        .object({
          status: z
            .enum(["pending", "delivered", "failed"])
            .optional()
            .openapi({ description: "Only events in this delivery state (failed: given up, the ones to replay)" }),
        })
        .extend(pageQuery({ max: 100, fallback: 50 }).shape),
    },
    responses: {
      200: { description: "A page of events", content: { "application/json": { schema: pageSchema(eventSchema) } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const q = c.req.valid("query");
    if (!(await c.var.store.webhooks.getEndpoint(ws, id))) throw notFound("webhook endpoint");
    const { page: events, next_cursor } = await readPage(q, eventCursor, (before, limit) =>
      c.var.store.webhooks.listEvents(ws, id, { ...(q.status ? { status: q.status } : {}), ...(before ? { before } : {}), limit }),
    );
    const attempts = await c.var.store.webhooks.listAttempts(ws, events.map((e) => e.id));
    return c.json(
      {
        data: events.map((e) => ({
          id: e.id,
          type: e.type,
          status: e.status,
          attempts: e.attempts,
          next_attempt_at: iso(e.nextAttemptAt),
          last_status_code: e.lastStatusCode,
          last_error: e.lastError,
          created_at: iso(e.createdAt)!,
          delivered_at: iso(e.deliveredAt),
          payload: e.payload,
          attempt_log: attempts
            .filter((a) => a.eventId === e.id)
            .map((a) => ({ attempt: a.attempt, status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error, next_attempt_at: iso(a.nextAttemptAt), at: iso(a.createdAt)! })),
        })),
        next_cursor,
      },
      200,
    );
  },
);

webhooksApp.openapi(
  route({
    method: "post",
    path: "/webhook-events/{id}/replay",
    operationId: "webhooks.replayEvent",
    summary: "Deliver an event again now (same webhook-id, fresh signature)",
    auth: "admin",
    request: { params: idParam },
    responses: {
      202: { description: "Queued again", content: { "application/json": { schema: z.object({ id: z.string(), status: z.string() }) } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const existing = await c.var.store.webhooks.getEvent(ws, id);
    if (!existing || !existing.endpointId) throw notFound("webhook event");
    const endpoint = await c.var.store.webhooks.getEndpoint(ws, existing.endpointId);
    if (!endpoint?.enabled) throw new RelayError("conflict", "the endpoint is disabled; enable it first");
    const row = await c.var.store.webhooks.requeueEvent(ws, id, Date.now());
    if (!row) throw notFound("webhook event");
    await deliverNow({ env: c.env, store: c.var.store, now: Date.now }, [row]);
    const after = await c.var.store.webhooks.getEvent(ws, id);
    return c.json({ id, status: after?.status ?? row.status }, 202);
  },
);
