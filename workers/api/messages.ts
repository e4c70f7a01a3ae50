// /v1/messages: send (JSON, batch, raw MIME), read status, list, cancel, fetch the rendered copy.
import type { Context } from "hono";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { fromBase64, sha256Hex, utf8 } from "../../core/encoding";
import { RelayError, notFound } from "../../core/errors";
import { normalizeMessage, sendMessageInput } from "../../core/message-input";
import type { PersonalizationRecord } from "../../core/llm/record";
import { campaignIdSchema } from "../../core/campaigns";
import { readConfig } from "../../core/config";
import { loadKeyring } from "../../core/crypto";
import type { MessageRow } from "../../db/messages/types";
import { loadRendered } from "../../db/body-store";
import { acceptStructured, type AcceptOutcome, type Idempotency } from "../accept";
import { acceptRaw } from "../accept-raw";
import { deferOf } from "./auth";
import type { AppEnv, WorkspaceEnv } from "./context";
import { pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { route } from "./route";
import {
  acceptedSchema,
  errorCodeSchema,
  errorResponses,
  errorSchema,
  idParam,
  iso,
  messageDetailSchema,
  messageStatusSchema,
  messageSummarySchema,
  notFoundResponse,
} from "./schemas";
import { validationHook } from "./validation";
import { sharedParameter } from "./components";

export const messagesApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** The request body example of the send routes (a clinic's appointment reminder). */
const sendExample = {
    from: "Riverside Clinic <noreply@clinic.example>",
    to: ["patient@example.net"],
    subject: "Your appointment on 3 December",
    text: "Hello Ana, this is a reminder of your appointment with Dr. Silva on 3 December at 09:30.",
    tags: ["appointment-reminder"],
    metadata: { appointment_id: "apt_48213" },
  };

const mimeExample =
  "From: Riverside Clinic <noreply@clinic.example>\r\nTo: patient@example.net\r\nSubject: Your test results are ready\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Ana, your results are ready in the patient portal.\r\n";

const idempotencyHeader = z.object({
  "idempotency-key": sharedParameter(
    "IdempotencyKey",
    z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 printable ASCII characters")
      .optional()
      .openapi("IdempotencyKey", {
        param: { name: "idempotency-key", in: "header" },
        description: "Repeat a request safely: the same key and body return the first answer",
        example: "appt-reminder-2026-12-03-pat-4821",
      }),
  ),
});

const acceptedResponse = {
  202: { description: "Accepted: stored and queued for delivery", content: { "application/json": { schema: acceptedSchema } } },
  409: {
    description: "Idempotency-Key reused with a different body",
    content: {
      "application/json": {
        schema: errorSchema,
        example: { error: { code: "idempotency_conflict", message: "Idempotency-Key appt-reminder-2026-12-03-pat-4821 was used with a different body" } },
      },
    },
  },
  413: { description: "Message too large", content: { "application/json": { schema: errorSchema } } },
  422: {
    description: "The workspace cannot send (no provider)",
    content: {
      "application/json": {
        schema: errorSchema,
        example: { error: { code: "no_provider", message: "this workspace has no enabled provider; add one with POST /v1/providers" } },
      },
    },
  },
};

function respond(c: { header(name: string, value: string): void }, outcome: AcceptOutcome) {
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  return outcome.body;
}

async function keyFor(key: string | undefined, scope: string, input: unknown): Promise<Idempotency | undefined> {
  if (!key) return undefined;
  return { key: `${scope}:${key}`, requestHash: await sha256Hex(JSON.stringify(input)) };
}

// ---- POST /v1/messages -------------------------------------------------------------------
messagesApp.openapi(
  route({
    method: "post",
    path: "/messages",
    operationId: "messages.send",
    summary: "Send a message",
    auth: "send",
    request: {
      headers: idempotencyHeader,
      body: { content: { "application/json": { schema: sendMessageInput, example: sendExample } }, required: true },
    },
    responses: { ...acceptedResponse, ...errorResponses },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const message = normalizeMessage(input, readConfig(c.env).maxMessageBytes);
    const idem = await keyFor(c.req.valid("header")["idempotency-key"], "messages", input);
    const outcome = await acceptStructured(ctx(c), message, idem);
    return c.json(respond(c, outcome), 202);
  },
);

// ---- POST /v1/messages/batch -------------------------------------------------------------
const batchResultSchema = z
  .object({
    index: z.number(),
    status: z.number(),
    id: z.string().optional(),
    message_id: z.string().optional(),
    error: z.object({ code: errorCodeSchema, message: z.string() }).optional(),
  })
  .openapi("BatchResult");

messagesApp.openapi(
  route({
    method: "post",
    path: "/messages/batch",
    operationId: "messages.sendBatch",
    auth: "send",
    summary: "Send up to 100 messages; one result per item",
    request: {
      headers: idempotencyHeader,
      body: {
        content: {
          "application/json": {
            schema: z.object({ messages: z.array(sendMessageInput).min(1).max(100) }).openapi("SendBatch"),
            example: { messages: [sendExample, { ...sendExample, to: ["guardian@example.net"], metadata: { appointment_id: "apt_48214" } }] },
          },
        },
        required: true,
      },
    },
    responses: {
      200: { description: "Per-item results", content: { "application/json": { schema: z.object({ results: z.array(batchResultSchema) }) } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { messages } = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const max = readConfig(c.env).maxMessageBytes;
    // Items are independent: each commits (with its own idempotency row) or fails on its own.
    const results = await Promise.all(
      messages.map(async (item, index) => {
        try {
          const outcome = await acceptStructured(ctx(c), normalizeMessage(item, max), await keyFor(key && `${key}#${index}`, "batch", item));
          return { index, status: 202, id: outcome.body.id, message_id: outcome.body.message_id };
        } catch (e) {
          if (!(e instanceof RelayError) || e.status >= 500) throw e;
          return { index, status: e.status, error: { code: e.code, message: e.message } };
        }
      }),
    );
    return c.json({ results }, 200);
  },
);

// ---- POST /v1/messages/mime --------------------------------------------------------------
const mimeJsonSchema = z
  .object({
    mail_from: z.string().max(998).openapi({ description: "Envelope sender; empty for the null sender" }),
    rcpt_to: z.array(z.string().max(998)).min(1).max(500),
    raw: z.string().openapi({ description: "The RFC 5322 message" }),
    raw_encoding: z.enum(["utf8", "base64"]).default("utf8"),
    campaign_id: campaignIdSchema.optional(),
  })
  .strict()
  .openapi("SendMime");

messagesApp.openapi(
  route({
    method: "post",
    path: "/messages/mime",
    operationId: "messages.sendMime",
    auth: "send",
    summary: "Send a raw RFC 5322 message with its envelope (the SMTP bridge's path)",
    description:
      "Either `Content-Type: message/rfc822` with the raw bytes as the body and the envelope in the query (`mail_from`, repeated `rcpt_to`), or JSON. Without an Idempotency-Key, the Message-ID header deduplicates: a retry of the same message returns the first answer. A campaign is named by `campaign_id` or by an `X-Relay-Campaign` header in the message (removed before delivery).",
    request: {
      headers: idempotencyHeader,
      query: z.object({
        mail_from: z.string().max(998).optional(),
        rcpt_to: z.union([z.string(), z.array(z.string())]).optional(),
        campaign_id: campaignIdSchema.optional(),
      }),
      body: {
        content: {
          "message/rfc822": { schema: z.string().openapi({ format: "binary" }), example: mimeExample },
          "application/json": { schema: mimeJsonSchema, example: { mail_from: "noreply@clinic.example", rcpt_to: ["patient@example.net"], raw: mimeExample } },
        },
        // Not "required": that would make the JSON validator run on message/rfc822 bodies too.
        required: false,
      },
    },
    responses: { ...acceptedResponse, ...errorResponses },
  }),
  async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const max = readConfig(c.env).maxMessageBytes;
    let raw: Uint8Array;
    let mailFrom: string;
    let rcptTo: string[];
    // Or the message's X-Relay-Campaign header (what SMTP clients can set).
    let campaignId = c.req.valid("query").campaign_id;
    if (type === "message/rfc822") {
      raw = new Uint8Array(await c.req.arrayBuffer());
      const url = new URL(c.req.url);
      mailFrom = url.searchParams.get("mail_from") ?? "";
      rcptTo = url.searchParams.getAll("rcpt_to");
    } else if (type === "application/json") {
      // Validated by the route (JSON bodies only); the union type also covers the rfc822 entry.
      const input = c.req.valid("json") as z.infer<typeof mimeJsonSchema>;
      const bytes = input.raw_encoding === "base64" ? fromBase64(input.raw) : utf8.encode(input.raw);
      if (!bytes) throw new RelayError("validation_error", "raw: not valid base64");
      raw = bytes;
      mailFrom = input.mail_from;
      rcptTo = input.rcpt_to;
      campaignId = input.campaign_id ?? campaignId;
    } else {
      throw new RelayError("unsupported_media_type", "send message/rfc822 or application/json");
    }
    if (raw.length > max) throw new RelayError("message_too_large", `message is ${raw.length} bytes; the limit is ${max}`);
    const key = c.req.valid("header")["idempotency-key"];
    const idem = key ? { key: `mime:${key}`, requestHash: await sha256Hex(raw) } : undefined;
    const source = c.req.header("x-relay-source") === "smtp" ? "smtp" : "mime";
    const outcome = await acceptRaw(ctx(c), { raw, mailFrom, rcptTo, source, ...(campaignId ? { campaignId } : {}) }, idem);
    return c.json(respond(c, outcome), 202);
  },
);

// ---- GET /v1/messages --------------------------------------------------------------------
const summary = (m: MessageRow) => ({
  id: m.id,
  status: m.status,
  source: m.source,
  from: m.fromEmail,
  to: m.toEmails,
  message_id: m.messageIdHeader,
  tags: m.tags,
  metadata: m.metadata,
  campaign_id: m.campaignId,
  size_bytes: m.sizeBytes,
  attempt_count: m.attemptCount,
  last_error: m.lastError,
  queued_at: iso(m.queuedAt)!,
  processed_at: iso(m.processedAt),
});

const cursor = timeIdCursor("queuedAt", "msg");

const dateParam = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date-time")
  .optional();

messagesApp.openapi(
  route({
    method: "get",
    path: "/messages",
    operationId: "messages.list",
    summary: "List messages, newest first",
    auth: "read",
    request: {
      query: z
        .object({ status: messageStatusSchema.optional(), tag: z.string().max(64).optional(), since: dateParam, until: dateParam })
        .extend(pageQuery().shape),
    },
    responses: {
      200: {
        description: "A page of messages",
        content: { "application/json": { schema: pageSchema(messageSummarySchema) } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { page, next_cursor } = await readPage(q, cursor, (before, limit) =>
      c.var.store.messages.list(c.var.workspaceId, {
        ...(q.status ? { status: q.status } : {}),
        ...(q.tag ? { tag: q.tag } : {}),
        ...(q.since ? { since: Date.parse(q.since) } : {}),
        ...(q.until ? { until: Date.parse(q.until) } : {}),
        ...(before ? { before } : {}),
        limit,
      }),
    );
    return c.json({ data: page.map(summary), next_cursor }, 200);
  },
);

// ---- GET /v1/messages/{id} ---------------------------------------------------------------
messagesApp.openapi(
  route({
    method: "get",
    path: "/messages/{id}",
    operationId: "messages.get",
    auth: "read",
    summary: "A message's status, per-recipient status and delivery attempts",
    request: { params: idParam },
    responses: {
      200: { description: "The message", content: { "application/json": { schema: messageDetailSchema } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const detail = await c.var.store.messages.message(c.var.workspaceId, c.req.valid("param").id);
    if (!detail) throw notFound("message");
    return c.json(
      {
        ...summary(detail.message),
        recipients: detail.recipients.map((r) => ({
          email: r.email,
          kind: r.kind,
          status: r.status,
          provider_id: r.providerId,
          provider_message_id: r.providerMessageId,
          attempts: r.attempts,
          last_error: r.lastError,
          sent_at: iso(r.sentAt),
          bounce: r.bounce ?? null,
        })),
        attempts: detail.attempts.map((a) => ({
          id: a.id,
          provider_id: a.providerId,
          recipients: a.recipients,
          outcome: a.outcome,
          detail: a.detail,
          provider_message_id: a.providerMessageId,
          latency_ms: a.latencyMs,
          started_at: iso(a.startedAt)!,
        })),
        attachments: detail.attachments.map((a) => ({ id: a.id, content_type: a.contentType, size_bytes: a.sizeBytes })),
        contains_phi: detail.message.containsPhi,
        personalize: detail.message.personalize,
        personalization: (detail.message.personalization as PersonalizationRecord | null) ?? null,
      },
      200,
    );
  },
);

// ---- GET /v1/messages/{id}/rendered ------------------------------------------------------
messagesApp.openapi(
  route({
    method: "get",
    path: "/messages/{id}/rendered",
    operationId: "messages.getRendered",
    auth: "read_bodies",
    summary: "The exact RFC 5322 message the sandbox provider 'delivered' (message content: needs `read_bodies`)",
    request: { params: idParam },
    responses: {
      200: { description: "The rendered message", content: { "message/rfc822": { schema: z.string() } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ring = await loadKeyring(c.env.DATA_KEYS, readConfig(c.env).dataKeyId);
    const raw = await loadRendered(c.env.BODIES, ring, c.var.workspaceId, c.req.valid("param").id);
    if (!raw) throw notFound("rendered message");
    return c.body(raw as Uint8Array<ArrayBuffer>, 200, { "content-type": "message/rfc822" });
  },
);

// ---- POST /v1/messages/{id}/cancel -------------------------------------------------------
messagesApp.openapi(
  route({
    method: "post",
    path: "/messages/{id}/cancel",
    operationId: "messages.cancel",
    auth: "send",
    summary: "Cancel the recipients not yet handed to a provider",
    request: { params: idParam },
    responses: {
      200: { description: "Cancelled", content: { "application/json": { schema: z.object({ id: z.string(), status: messageStatusSchema }) } } },
      409: {
        description: "Nothing left to cancel",
        content: { "application/json": { schema: errorSchema, example: { error: { code: "not_cancellable", message: "message is sent; nothing left to cancel" } } } },
      },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const id = c.req.valid("param").id;
    const status = await c.var.store.messages.cancel(c.var.workspaceId, id, Date.now());
    if (status === null) {
      const exists = await c.var.store.messages.message(c.var.workspaceId, id);
      if (!exists) throw notFound("message");
      throw new RelayError("not_cancellable", `message is ${exists.message.status}; nothing left to cancel`);
    }
    return c.json({ id, status }, 200);
  },
);

function ctx(c: Context<WorkspaceEnv>) {
  return { env: c.env, store: c.var.store, principal: c.var.principal, now: Date.now(), requestId: c.var.requestId, defer: deferOf(c) };
}
