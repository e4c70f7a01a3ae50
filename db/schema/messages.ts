// Messages, their recipients, headers, attachments, delivery attempts and idempotency records
// (db/mysql/schema/messages.ts is the MySQL twin).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { BounceSummary } from "../../core/bounce/policy";
import { MESSAGE_STATUSES, RECIPIENT_DELIVERY_STATUSES } from "../../core/status";
import { createdAt, now, updatedAt } from "./columns";
import { workspaces } from "./workspaces";

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id"),
    apiKeyId: text("api_key_id"),
    campaignId: text("campaign_id"),
    source: text("source", { enum: ["api", "mime", "smtp", "email"] }).notNull(),
    // The RFC 5322 Message-ID, with angle brackets.
    messageIdHeader: text("message_id_header").notNull(),
    fromEmail: text("from_email").notNull(),
    // Envelope sender (MAIL FROM); null for the null sender <>.
    envelopeFrom: text("envelope_from"),
    toEmails: text("to_emails", { mode: "json" }).$type<string[]>().notNull(),
    status: text("status", { enum: MESSAGE_STATUSES }).notNull().default("queued"),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default([]),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
    // Encrypted content document (subject, bodies, headers, attachments, or the raw MIME).
    // Small documents live here; larger ones in R2 under body_r2_key (also encrypted).
    bodyEnc: text("body_enc"),
    bodyR2Key: text("body_r2_key"),
    sizeBytes: integer("size_bytes").notNull(),
    forceSend: integer("force_send", { mode: "boolean" }).notNull().default(false),
    // Send no earlier than this (deferrals and scheduled sends).
    notBefore: integer("not_before"),
    attemptCount: integer("attempt_count").notNull().default(0),
    lastError: text("last_error"),
    // Last time the outbox put this message on the queue; the sweep waits a grace period after it.
    enqueuedAt: integer("enqueued_at"),
    queuedAt: integer("queued_at").notNull().default(now),
    processedAt: integer("processed_at"),
    // The accepting request's id, so logs from accept through delivery can be joined.
    requestId: text("request_id"),
    // When retention deleted the content (body, attachments, rendered copy); metadata stays.
    bodyPurgedAt: integer("body_purged_at"),
    // The sender marked the message as carrying PHI (or DLP flagged it): LLM personalization
    // then needs an endpoint the workspace declared covered by a BAA.
    containsPhi: integer("contains_phi", { mode: "boolean" }).notNull().default(false),
    // The message asked for LLM personalization (the workspace must have it on too).
    personalize: integer("personalize", { mode: "boolean" }).notNull().default(false),
    // Whether and how it was personalized: {mode, model, cached, fallback reason, tokens}.
    personalization: text("personalization", { mode: "json" }).$type<Record<string, unknown>>(),
    // What a deferred message waits on: a provider id (its breaker, or a retry after it failed),
    // "*" (every provider of the workspace), or "limit:<rule>". A provider's breaker half-opening
    // or closing releases the messages waiting on it at once (workers/deferred-release.ts).
    waitingOn: text("waiting_on"),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("messages_workspace_queued").on(t.workspaceId, t.queuedAt),
    index("messages_workspace_status").on(t.workspaceId, t.status),
    index("messages_status_enqueued").on(t.status, t.enqueuedAt),
    index("messages_workspace_msgid").on(t.workspaceId, t.messageIdHeader),
    // Bounces without a VERP address are matched by the original Message-ID, workspace unknown.
    index("messages_msgid").on(t.messageIdHeader),
    // Partial: only deferred messages carry waiting_on, so accepting a message never touches it.
    index("messages_workspace_waiting").on(t.workspaceId, t.waitingOn, t.notBefore).where(sql`${t.waitingOn} IS NOT NULL`),
  ],
);

export const messageRecipients = sqliteTable(
  "message_recipients",
  {
    id: text("id").primaryKey(),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    recipientId: text("recipient_id"),
    email: text("email").notNull(),
    kind: text("kind", { enum: ["to", "cc", "bcc"] }).notNull(),
    status: text("status", { enum: RECIPIENT_DELIVERY_STATUSES }).notNull().default("queued"),
    providerId: text("provider_id"),
    providerMessageId: text("provider_message_id"),
    lastError: text("last_error"),
    attempts: integer("attempts").notNull().default(0),
    sentAt: integer("sent_at"),
    updatedAt: updatedAt(),
    /**
     * While `sending`: when the claim lapses (its provider call's deadline + a margin, renewed
     * before each call). Null on rows claimed before this column existed: updated_at + 2 minutes.
     */
    leaseUntil: integer("lease_until"),
    /** The last bounce reported for this delivery: its reason, cause, status, diagnostic, remote MTA (core/bounce/policy.ts). */
    bounce: text("bounce", { mode: "json" }).$type<BounceSummary>(),
  },
  (t) => [
    uniqueIndex("message_recipients_message_email").on(t.messageId, t.email),
    // /metrics counts bounces by reason per provider without reading the rows that never bounced.
    index("message_recipients_bounced").on(t.workspaceId, t.providerId).where(sql`${t.bounce} IS NOT NULL`),
    // The outbox finds lapsed claims (its consumer died mid-call) without scanning every recipient.
    index("message_recipients_sending_lease").on(t.leaseUntil).where(sql`${t.status} = 'sending'`),
    index("message_recipients_workspace_email").on(t.workspaceId, t.email),
    // A message's recipients within its workspace (load, claim, record, detail). Without it
    // SQLite, having no statistics, served "workspace_id = ? AND message_id = ?" from the
    // (workspace_id, email) index: every delivery scanned its whole workspace's recipients.
    index("message_recipients_workspace_message").on(t.workspaceId, t.messageId),
    // Provider webhooks find the recipient by the provider's message id.
    index("message_recipients_provider_message").on(t.providerMessageId),
  ],
);

export const messageHeaders = sqliteTable(
  "message_headers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    // Values are part of the encrypted content document; only names are kept in clear for search.
  },
  (t) => [index("message_headers_message").on(t.messageId)],
);

export const attachments = sqliteTable(
  "attachments",
  {
    id: text("id").primaryKey(),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    // Filenames can carry patient names, so they are encrypted like the body.
    filenameEnc: text("filename_enc").notNull(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    contentId: text("content_id"),
    // Content lives in the message's encrypted content document (D1 or R2).
    createdAt: createdAt(),
  },
  (t) => [index("attachments_message").on(t.messageId)],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: text("id").primaryKey(),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    // The queue job's delivery id: the same id across queue redelivery of one job.
    deliveryId: text("delivery_id").notNull(),
    providerId: text("provider_id"),
    recipients: text("recipients", { mode: "json" }).$type<string[]>().notNull(),
    outcome: text("outcome", { enum: ["sent", "transient", "permanent", "deferred", "skipped"] }).notNull(),
    detail: text("detail"),
    providerMessageId: text("provider_message_id"),
    latencyMs: integer("latency_ms"),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at").notNull(),
  },
  (t) => [index("delivery_attempts_message").on(t.messageId)],
);

// First answer for an Idempotency-Key (API) or a Message-ID (SMTP/inbound), replayed on retry.
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    workspaceId: text("workspace_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    // Null for a batch request (its response lists many messages).
    messageId: text("message_id"),
    responseStatus: integer("response_status").notNull(),
    responseBody: text("response_body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.key] })],
);
