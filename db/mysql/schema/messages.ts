// Messages, their recipients, headers, attachments, delivery attempts and idempotency records:
// the MySQL twins of the D1 tables (db/schema), column for column.
import type { BounceSummary } from "../../../core/bounce/policy";
import { bigint, boolean, index, int, longtext, mysqlTable, primaryKey, text, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { MESSAGE_STATUSES, RECIPIENT_DELIVERY_STATUSES } from "../../../core/status";
import { choice, createdAt, email, id, idempotencyKey, json, jsonDefault, messageIdHeader, ms, NOW_MS, updatedAt } from "../columns";
import { workspaces } from "./workspaces";

export const messages = mysqlTable(
  "messages",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: id("user_id"),
    apiKeyId: id("api_key_id"),
    campaignId: id("campaign_id"),
    source: choice("source", ["api", "mime", "smtp", "email"]).notNull(),
    messageIdHeader: messageIdHeader("message_id_header").notNull(),
    fromEmail: email("from_email").notNull(),
    envelopeFrom: email("envelope_from"),
    toEmails: json<string[]>("to_emails").notNull(),
    status: choice("status", MESSAGE_STATUSES).notNull().default("queued"),
    tags: json<string[]>("tags").notNull().default(jsonDefault([])),
    metadata: json<Record<string, string>>("metadata").notNull().default(jsonDefault({})),
    // Up to INLINE_BODY_MAX_BYTES of ciphertext (64 KiB by default, more than TEXT holds).
    bodyEnc: longtext("body_enc"),
    bodyR2Key: varchar("body_r2_key", { length: 255 }),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    forceSend: boolean("force_send").notNull().default(false),
    notBefore: ms("not_before"),
    attemptCount: int("attempt_count").notNull().default(0),
    lastError: text("last_error"),
    enqueuedAt: ms("enqueued_at"),
    queuedAt: ms("queued_at").notNull().default(NOW_MS),
    processedAt: ms("processed_at"),
    requestId: varchar("request_id", { length: 64 }),
    bodyPurgedAt: ms("body_purged_at"),
    containsPhi: boolean("contains_phi").notNull().default(false),
    personalize: boolean("personalize").notNull().default(false),
    personalization: json<Record<string, unknown>>("personalization"),
    // A provider id, "*", "pin:<provider id>" or "limit:<rule>".
    waitingOn: varchar("waiting_on", { length: 128 }),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("messages_workspace_queued").on(t.workspaceId, t.queuedAt),
    index("messages_workspace_status").on(t.workspaceId, t.status),
    index("messages_status_enqueued").on(t.status, t.enqueuedAt),
    index("messages_workspace_msgid").on(t.workspaceId, t.messageIdHeader),
    index("messages_msgid").on(t.messageIdHeader),
    // SQLite's is partial (waiting_on IS NOT NULL); here every row is in it, with NULL first.
    index("messages_workspace_waiting").on(t.workspaceId, t.waitingOn, t.notBefore),
  ],
);

export const messageRecipients = mysqlTable(
  "message_recipients",
  {
    id: id("id").primaryKey(),
    messageId: id("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    recipientId: id("recipient_id"),
    email: email("email").notNull(),
    kind: choice("kind", ["to", "cc", "bcc"]).notNull(),
    status: choice("status", RECIPIENT_DELIVERY_STATUSES).notNull().default("queued"),
    providerId: id("provider_id"),
    providerMessageId: varchar("provider_message_id", { length: 512 }),
    lastError: text("last_error"),
    attempts: int("attempts").notNull().default(0),
    sentAt: ms("sent_at"),
    updatedAt: updatedAt(),
    leaseUntil: ms("lease_until"),
    bounce: json<BounceSummary>("bounce"),
  },
  (t) => [
    uniqueIndex("message_recipients_message_email").on(t.messageId, t.email),
    // SQLite's is partial (WHERE bounce IS NOT NULL); MySQL has none, the prefix serves the same scan.
    index("message_recipients_bounced").on(t.workspaceId, t.providerId),
    // SQLite's is partial (lease_until WHERE status = 'sending'); the lapsed-claim scan reads
    // status = 'sending' AND lease_until <= ?, which this prefix serves the same way.
    index("message_recipients_sending_lease").on(t.status, t.leaseUntil),
    index("message_recipients_workspace_email").on(t.workspaceId, t.email),
    index("message_recipients_workspace_message").on(t.workspaceId, t.messageId),
    index("message_recipients_provider_message").on(t.providerMessageId),
  ],
);

export const messageHeaders = mysqlTable(
  "message_headers",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    messageId: id("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    name: varchar("name", { length: 255 }).notNull(),
  },
  (t) => [index("message_headers_message").on(t.messageId)],
);

export const attachments = mysqlTable(
  "attachments",
  {
    id: id("id").primaryKey(),
    messageId: id("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    filenameEnc: text("filename_enc").notNull(),
    contentType: varchar("content_type", { length: 255 }).notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    contentId: varchar("content_id", { length: 998 }),
    createdAt: createdAt(),
  },
  (t) => [index("attachments_message").on(t.messageId)],
);

export const deliveryAttempts = mysqlTable(
  "delivery_attempts",
  {
    id: id("id").primaryKey(),
    messageId: id("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    deliveryId: varchar("delivery_id", { length: 128 }).notNull(),
    providerId: id("provider_id"),
    recipients: json<string[]>("recipients").notNull(),
    outcome: choice("outcome", ["sent", "transient", "permanent", "deferred", "skipped"]).notNull(),
    detail: text("detail"),
    providerMessageId: varchar("provider_message_id", { length: 512 }),
    latencyMs: int("latency_ms"),
    startedAt: ms("started_at").notNull(),
    finishedAt: ms("finished_at").notNull(),
  },
  (t) => [index("delivery_attempts_message").on(t.messageId)],
);

export const idempotencyKeys = mysqlTable(
  "idempotency_keys",
  {
    workspaceId: id("workspace_id").notNull(),
    // An Idempotency-Key, or `message-id:<Message-ID>#<n>` (db/message-id-generations.ts).
    key: idempotencyKey("key").notNull(),
    requestHash: varchar("request_hash", { length: 128 }).notNull(),
    messageId: id("message_id"),
    responseStatus: int("response_status").notNull(),
    // The first answer, replayed byte for byte: text, not JSON (MySQL 8 would reorder its keys).
    responseBody: longtext("response_body").notNull(),
    createdAt: ms("created_at").notNull().default(NOW_MS),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.key] })],
);

