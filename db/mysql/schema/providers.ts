// Providers and what is kept about them: limits, per-minute metrics, breaker state, health
// checks, webhook signing keys and replay tokens. MySQL twins of the D1 tables (db/schema).
import { boolean, index, int, mysqlTable, primaryKey, text, varchar } from "drizzle-orm/mysql-core";
import { choice, createdAt, id, json, jsonDefault, ms, NOW_MS, updatedAt } from "../columns";
import { workspaces } from "./workspaces";

export const providers = mysqlTable(
  "providers",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    type: choice("type", ["sandbox", "mailgun", "gmail", "smtp"]).notNull(),
    config: json<Record<string, unknown>>("config").notNull().default(jsonDefault({})),
    credentialsEnc: text("credentials_enc"),
    status: choice("status", ["enabled", "disabled"]).notNull().default("enabled"),
    priority: int("priority").notNull().default(100),
    weight: int("weight").notNull().default(1),
    baaCovered: boolean("baa_covered").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("providers_workspace").on(t.workspaceId)],
);

export const rateLimits = mysqlTable(
  "rate_limits",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").references(() => workspaces.id, { onDelete: "cascade" }),
    scope: choice("scope", ["global", "workspace", "provider"]).notNull(),
    providerId: id("provider_id").references(() => providers.id, { onDelete: "cascade" }),
    period: choice("period", ["second", "minute", "hour", "day"]).notNull(),
    maxCount: int("max_count").notNull(),
    burst: int("burst"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("rate_limits_workspace").on(t.workspaceId)],
);

export const providerWebhookKeys = mysqlTable("provider_webhook_keys", {
  providerId: id("provider_id").primaryKey().references(() => providers.id, { onDelete: "cascade" }),
  workspaceId: id("workspace_id").notNull(),
  signingKeyEnc: text("signing_key_enc").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const providerWebhookTokens = mysqlTable(
  "provider_webhook_tokens",
  {
    providerId: id("provider_id").notNull(),
    token: varchar("token", { length: 255 }).notNull(),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.token] }), index("provider_webhook_tokens_created").on(t.createdAt)],
);

export const providerMetrics = mysqlTable(
  "provider_metrics",
  {
    providerId: id("provider_id").notNull().references(() => providers.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    windowStart: ms("window_start").notNull(),
    sent: int("sent").notNull().default(0),
    transientFailures: int("transient_failures").notNull().default(0),
    permanentFailures: int("permanent_failures").notNull().default(0),
    latencyMsSum: ms("latency_ms_sum").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.windowStart] })],
);

export const circuitBreakers = mysqlTable("circuit_breakers", {
  providerId: id("provider_id").primaryKey().references(() => providers.id, { onDelete: "cascade" }),
  workspaceId: id("workspace_id").notNull(),
  state: choice("state", ["closed", "open", "half_open"]).notNull().default("closed"),
  failureCount: int("failure_count").notNull().default(0),
  successCount: int("success_count").notNull().default(0),
  lastFailureAt: ms("last_failure_at"),
  stateChangedAt: ms("state_changed_at").notNull().default(NOW_MS),
});

export const healthChecks = mysqlTable(
  "health_checks",
  {
    id: id("id").primaryKey(),
    providerId: id("provider_id").notNull().references(() => providers.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    status: choice("status", ["healthy", "degraded", "unhealthy"]).notNull(),
    latencyMs: int("latency_ms"),
    detail: text("detail"),
    checkedAt: ms("checked_at").notNull().default(NOW_MS),
  },
  (t) => [index("health_checks_provider").on(t.providerId, t.checkedAt)],
);
