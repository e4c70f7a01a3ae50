// The storage model: every entity of the spec's database diagram, in D1 (SQLite).
// Times are integer milliseconds since the epoch (UTC). Ids are prefixed random strings.
// Columns ending in `_enc` hold AES-256-GCM ciphertext (see core/crypto.ts); the key id
// travels inside the ciphertext envelope so keys can rotate.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { MESSAGE_STATUSES, RECIPIENT_DELIVERY_STATUSES } from "../core/status";

const now = sql`(unixepoch('subsec') * 1000)`;
const createdAt = () => integer("created_at").notNull().default(now);
const updatedAt = () => integer("updated_at").notNull().default(now);

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  // The workspace's primary domain (the spec's `domain UK`); sender domains list every domain it may send as.
  domain: text("domain").unique(),
  displayName: text("display_name").notNull(),
  // Workspace settings (routing strategy, retry policy, limits, time zone, ...), validated by core/workspace-config.ts.
  configuration: text("configuration", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  status: text("status", { enum: ["active", "suspended"] }).notNull().default("active"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    nameEnc: text("name_enc"),
    role: text("role", { enum: ["admin", "member"] }).notNull().default("member"),
    // Subject claim of the identity provider, for JWT-authenticated users.
    externalId: text("external_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_workspace_email").on(t.workspaceId, t.email)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    // The first characters of the key, shown in listings so people can tell keys apart.
    prefix: text("prefix").notNull(),
    // SHA-256 of the whole key (keys are 256-bit random, so a fast hash is enough).
    keyHash: text("key_hash").notNull().unique(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_workspace").on(t.workspaceId)],
);

export const senderDomains = sqliteTable(
  "sender_domains",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    // Several workspaces may claim a domain; only a verification makes a claim exclusive, so an
    // unverified registration can never block the domain's owner (db/sender-domains.ts).
    domain: text("domain").notNull(),
    verificationToken: text("verification_token").notNull(),
    verifiedAt: integer("verified_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("sender_domains_workspace").on(t.workspaceId),
    uniqueIndex("sender_domains_workspace_domain").on(t.workspaceId, t.domain),
    // At most one verified claim per domain: the owner. No tenant can send as another's domain.
    uniqueIndex("sender_domains_verified_domain").on(t.domain).where(sql`${t.verifiedAt} IS NOT NULL`),
  ],
);

export const providers = sqliteTable(
  "providers",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    type: text("type", { enum: ["sandbox", "mailgun", "gmail", "smtp"] }).notNull(),
    // Non-secret settings (region, host, base URL...). Secrets live only in credentials_enc.
    config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    credentialsEnc: text("credentials_enc"),
    status: text("status", { enum: ["enabled", "disabled"] }).notNull().default("enabled"),
    priority: integer("priority").notNull().default(100),
    weight: integer("weight").notNull().default(1),
    // The workspace's declaration that a BAA covers this provider; PHI-flagged mail goes only to these.
    baaCovered: integer("baa_covered", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("providers_workspace").on(t.workspaceId)],
);

export const rateLimits = sqliteTable(
  "rate_limits",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").references(() => workspaces.id, { onDelete: "cascade" }),
    // global (workspace_id null), workspace, or provider (provider_id set).
    scope: text("scope", { enum: ["global", "workspace", "provider"] }).notNull(),
    providerId: text("provider_id").references(() => providers.id, { onDelete: "cascade" }),
    period: text("period", { enum: ["second", "minute", "hour", "day"] }).notNull(),
    maxCount: integer("max_count").notNull(),
    burst: integer("burst"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("rate_limits_workspace").on(t.workspaceId)],
);

export const userRateLimits = sqliteTable(
  "user_rate_limits",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    period: text("period", { enum: ["hour", "day"] }).notNull(),
    maxCount: integer("max_count").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("user_rate_limits_user_period").on(t.userId, t.period)],
);

export const campaigns = sqliteTable(
  "campaigns",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    status: text("status", { enum: ["draft", "active", "completed", "cancelled"] }).notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("campaigns_workspace").on(t.workspaceId)],
);

export const campaignStats = sqliteTable(
  "campaign_stats",
  {
    campaignId: text("campaign_id").notNull().references(() => campaigns.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    // UTC day, YYYY-MM-DD.
    day: text("day").notNull(),
    queued: integer("queued").notNull().default(0),
    sent: integer("sent").notNull().default(0),
    delivered: integer("delivered").notNull().default(0),
    bounced: integer("bounced").notNull().default(0),
    complained: integer("complained").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    suppressed: integer("suppressed").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.day] })],
);

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
  },
  (t) => [
    uniqueIndex("message_recipients_message_email").on(t.messageId, t.email),
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

export const recipients = sqliteTable(
  "recipients",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    status: text("status", { enum: ["active", "bounced", "complained", "unsubscribed"] }).notNull().default("active"),
    bounceCount: integer("bounce_count").notNull().default(0),
    firstNameEnc: text("first_name_enc"),
    lastNameEnc: text("last_name_enc"),
    fieldsEnc: text("fields_enc"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    campaignId: text("campaign_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("recipients_workspace_email").on(t.workspaceId, t.email),
    // Suppression and profile lookups match addresses case-insensitively (lower(email)): without
    // this index each accept scanned every recipient of the workspace.
    index("recipients_workspace_email_lower").on(t.workspaceId, sql`lower(${t.email})`),
  ],
);

export const recipientEvents = sqliteTable(
  "recipient_events",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    recipientId: text("recipient_id"),
    messageRecipientId: text("message_recipient_id"),
    messageId: text("message_id"),
    type: text("type").notNull(),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("recipient_events_recipient").on(t.recipientId), index("recipient_events_workspace").on(t.workspaceId, t.createdAt)],
);

export const recipientLists = sqliteTable(
  "recipient_lists",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("recipient_lists_workspace_name").on(t.workspaceId, t.name)],
);

export const recipientListMembers = sqliteTable(
  "recipient_list_members",
  {
    listId: text("list_id").notNull().references(() => recipientLists.id, { onDelete: "cascade" }),
    recipientId: text("recipient_id").notNull().references(() => recipients.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.listId, t.recipientId] })],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    secretEnc: text("secret_enc").notNull(),
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    description: text("description"),
    // First failed delivery since the last success; disabled once failing for too long.
    failingSince: integer("failing_since"),
    disabledAt: integer("disabled_at"),
    disabledReason: text("disabled_reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhook_endpoints_workspace").on(t.workspaceId)],
);

export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id").notNull(),
    endpointId: text("endpoint_id"),
    messageId: text("message_id"),
    type: text("type").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastError: text("last_error"),
    lastStatusCode: integer("last_status_code"),
    deliveredAt: integer("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_events_status").on(t.status, t.nextAttemptAt),
    index("webhook_events_message").on(t.messageId),
    index("webhook_events_endpoint").on(t.endpointId, t.createdAt),
  ],
);

// Every delivery attempt of a webhook event: what the endpoint answered and how long it took.
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull().references(() => webhookEvents.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_attempts_event").on(t.eventId, t.attempt)],
);

// Signing keys of provider webhooks (Mailgun's "HTTP webhook signing key"), encrypted.
export const providerWebhookKeys = sqliteTable("provider_webhook_keys", {
  providerId: text("provider_id").primaryKey().references(() => providers.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  signingKeyEnc: text("signing_key_enc").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// Tokens of provider webhook calls already accepted (replay protection), kept past the staleness window.
export const providerWebhookTokens = sqliteTable(
  "provider_webhook_tokens",
  {
    providerId: text("provider_id").notNull(),
    token: text("token").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.token] }), index("provider_webhook_tokens_created").on(t.createdAt)],
);

export const providerMetrics = sqliteTable(
  "provider_metrics",
  {
    providerId: text("provider_id").notNull().references(() => providers.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    // Start of the one-minute window, ms.
    windowStart: integer("window_start").notNull(),
    sent: integer("sent").notNull().default(0),
    transientFailures: integer("transient_failures").notNull().default(0),
    permanentFailures: integer("permanent_failures").notNull().default(0),
    latencyMsSum: integer("latency_ms_sum").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.windowStart] })],
);

export const circuitBreakers = sqliteTable("circuit_breakers", {
  providerId: text("provider_id").primaryKey().references(() => providers.id, { onDelete: "cascade" }),
  workspaceId: text("workspace_id").notNull(),
  state: text("state", { enum: ["closed", "open", "half_open"] }).notNull().default("closed"),
  failureCount: integer("failure_count").notNull().default(0),
  successCount: integer("success_count").notNull().default(0),
  lastFailureAt: integer("last_failure_at"),
  stateChangedAt: integer("state_changed_at").notNull().default(now),
});

export const healthChecks = sqliteTable(
  "health_checks",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id").notNull().references(() => providers.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    status: text("status", { enum: ["healthy", "degraded", "unhealthy"] }).notNull(),
    latencyMs: integer("latency_ms"),
    detail: text("detail"),
    checkedAt: integer("checked_at").notNull().default(now),
  },
  (t) => [index("health_checks_provider").on(t.providerId, t.checkedAt)],
);

export const auditLogs = sqliteTable(
  "audit_logs",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id"),
    actor: text("actor").notNull(),
    credentialId: text("credential_id"),
    action: text("action").notNull(),
    resource: text("resource").notNull(),
    ip: text("ip"),
    outcome: text("outcome", { enum: ["success", "denied", "error"] }).notNull(),
    requestId: text("request_id"),
    // Non-sensitive particulars (HTTP status, counts); never content or addresses.
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("audit_logs_workspace").on(t.workspaceId, t.createdAt)],
);

// Per-workspace security settings: the JWT issuer trusted for bearer tokens, body retention,
// and the data-loss-prevention policy. Kept apart from `workspaces.configuration` because
// these are enforced on the authentication path and by the retention job.
export const workspaceSecurity = sqliteTable(
  "workspace_security",
  {
    workspaceId: text("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
    // Copied out of `jwt` so a token's `iss` finds its workspace(s) through an index.
    jwtIssuer: text("jwt_issuer"),
    jwt: text("jwt", { mode: "json" }).$type<Record<string, unknown>>(),
    retentionDays: integer("retention_days"),
    dlp: text("dlp", { mode: "json" }).$type<Record<string, unknown>>(),
    // LLM endpoint API key (write-only, AES-GCM like provider credentials).
    llmApiKeyEnc: text("llm_api_key_enc"),
    updatedAt: updatedAt(),
  },
  (t) => [index("workspace_security_issuer").on(t.jwtIssuer)],
);

// LLM personalization (workers/llm): outputs cached by content hash (encrypted: they are
// message content), and a per-day token ledger for the workspace's budget.
export const llmCache = sqliteTable(
  "llm_cache",
  {
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    contentHash: text("content_hash").notNull(),
    outputEnc: text("output_enc").notNull(),
    model: text("model").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.contentHash] })],
);

export const llmUsage = sqliteTable(
  "llm_usage",
  {
    workspaceId: text("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    // UTC day, YYYY-MM-DD.
    day: text("day").notNull(),
    tokens: integer("tokens").notNull().default(0),
    calls: integer("calls").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day] })],
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
