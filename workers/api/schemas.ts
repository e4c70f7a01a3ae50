// Response and shared request schemas for the OpenAPI document. Request bodies that are
// domain input (the send request) live in core/.
import { z } from "@hono/zod-openapi";
import { REASONS } from "../../core/bounce/reasons";
import { ERROR_CODE_LIST } from "../../core/errors";
import { MESSAGE_STATUSES, RECIPIENT_DELIVERY_STATUSES } from "../../core/status";
import { personalizationSchema } from "../../core/llm/record";

// The codes are a closed set (core/errors.ts), so clients can switch on them exhaustively.
export const errorCodeSchema = z.enum(ERROR_CODE_LIST).openapi("ErrorCode");

export const errorSchema = z
  .object({ error: z.object({ code: errorCodeSchema, message: z.string() }) })
  .openapi("Error");

export const errorResponses = {
  400: { description: "Invalid request", content: { "application/json": { schema: errorSchema } } },
  401: { description: "Missing or invalid credential", content: { "application/json": { schema: errorSchema } } },
  403: { description: "Credential lacks the scope, or the sender domain is not the workspace's", content: { "application/json": { schema: errorSchema } } },
} as const;

export const notFoundResponse = {
  404: { description: "Not found (or belongs to another workspace)", content: { "application/json": { schema: errorSchema } } },
} as const;

export const idParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

export const acceptedSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "failed"]).openapi({ description: "failed only when every recipient is suppressed" }),
    message_id: z.string().openapi({ description: "The RFC 5322 Message-ID header" }),
    recipients: z.array(z.object({ email: z.string(), status: z.enum(["queued", "suppressed"]) })),
  })
  .openapi("Accepted");

export const recipientStatusSchema = z.enum(RECIPIENT_DELIVERY_STATUSES);
export const messageStatusSchema = z.enum(MESSAGE_STATUSES);

export const messageSummarySchema = z
  .object({
    id: z.string(),
    status: messageStatusSchema,
    source: z.string(),
    from: z.string(),
    to: z.array(z.string()),
    message_id: z.string(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.string()),
    campaign_id: z.string().nullable(),
    size_bytes: z.number(),
    attempt_count: z.number(),
    last_error: z.string().nullable(),
    queued_at: z.string(),
    processed_at: z.string().nullable(),
  })
  .openapi("MessageSummary");

export const bounceSchema = z
  .object({
    type: z.enum(["hard", "soft"]).openapi({ description: "hard: the address is bad (counts toward suppression); soft: it is not, or not only, the address" }),
    reason: z.enum(REASONS).openapi({ description: "Why, in sisimai's reason names (README: Bounces)" }),
    cause: z.enum(["recipient", "mailbox", "sender", "transient", "unknown", "none"]).openapi({ description: "Who the bounce says is at fault; sender-side bounces never suppress" }),
    status: z.string().nullable().openapi({ description: "Enhanced status code (RFC 3463), e.g. 5.1.1" }),
    status_inferred: z.boolean().openapi({ description: "True when the report gave no status and it was inferred from the reason" }),
    diagnostic: z.string().nullable(),
    remote_mta: z.string().nullable(),
  })
  .openapi("Bounce");

export const messageDetailSchema = messageSummarySchema
  .extend({
    recipients: z.array(
      z.object({
        email: z.string(),
        kind: z.enum(["to", "cc", "bcc"]),
        status: recipientStatusSchema,
        provider_id: z.string().nullable(),
        provider_message_id: z.string().nullable(),
        attempts: z.number(),
        last_error: z.string().nullable(),
        sent_at: z.string().nullable(),
        bounce: bounceSchema.nullable().openapi({ description: "The last bounce reported for this recipient (null when none): why, and whether it counted toward suppression" }),
      }),
    ),
    attempts: z.array(
      z.object({
        id: z.string(),
        provider_id: z.string().nullable(),
        recipients: z.array(z.string()),
        outcome: z.string(),
        detail: z.string().nullable(),
        provider_message_id: z.string().nullable(),
        latency_ms: z.number().nullable(),
        started_at: z.string(),
      }),
    ),
    attachments: z.array(z.object({ id: z.string(), content_type: z.string(), size_bytes: z.number() })),
    contains_phi: z.boolean(),
    personalize: z.boolean(),
    personalization: personalizationSchema.nullable().openapi({ description: "Whether and how the message was personalized by the LLM; null when it did not ask or was not processed yet" }),
  })
  .openapi("MessageDetail");

export const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
