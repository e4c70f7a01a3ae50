// Providers and what is kept about them: limits, webhook signing keys and replay tokens,
// per-minute metrics, the breaker's D1 mirror, health checks (db/mysql/schema/providers.ts is the MySQL twin).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, now, updatedAt } from "./columns";
import { workspaces } from "./workspaces";

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
