// Tenancy, credentials, security settings, limits, the audit trail and the LLM ledger: the MySQL
// twins of the same tables in the D1 schema (db/schema), column for column. Comments on what a
// column means live there; here only what MySQL does differently.
import { sql } from "drizzle-orm";
import { index, int, mediumtext, mysqlTable, primaryKey, text, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { choice, createdAt, domainName, email, id, json, jsonDefault, ms, updatedAt } from "../columns";

export const workspaces = mysqlTable("workspaces", {
  id: id("id").primaryKey(),
  slug: varchar("slug", { length: 64 }).notNull().unique(),
  domain: domainName("domain").unique(),
  displayName: varchar("display_name", { length: 255 }).notNull(),
  configuration: json<Record<string, unknown>>("configuration").notNull().default(jsonDefault({})),
  status: choice("status", ["active", "suspended"]).notNull().default("active"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const users = mysqlTable(
  "users",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: email("email").notNull(),
    nameEnc: text("name_enc"),
    role: choice("role", ["admin", "member"]).notNull().default("member"),
    externalId: varchar("external_id", { length: 255 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_workspace_email").on(t.workspaceId, t.email)],
);

export const apiKeys = mysqlTable(
  "api_keys",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: id("user_id").references(() => users.id, { onDelete: "set null" }),
    name: varchar("name", { length: 255 }).notNull(),
    prefix: varchar("prefix", { length: 32 }).notNull(),
    keyHash: varchar("key_hash", { length: 128 }).notNull().unique(),
    scopes: json<string[]>("scopes").notNull(),
    expiresAt: ms("expires_at"),
    revokedAt: ms("revoked_at"),
    lastUsedAt: ms("last_used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_workspace").on(t.workspaceId)],
);

export const senderDomains = mysqlTable(
  "sender_domains",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    domain: domainName("domain").notNull(),
    verificationToken: varchar("verification_token", { length: 255 }).notNull(),
    verifiedAt: ms("verified_at"),
    /**
     * The domain while the claim is verified, else NULL. MySQL has no partial indexes: a unique
     * index on this column is SQLite's unique index on domain WHERE verified_at IS NOT NULL (any
     * number of NULLs, one verified claim per domain). Computed by the database; never written.
     */
    verifiedDomain: domainName("verified_domain").generatedAlwaysAs(sql`(case when verified_at is null then null else domain end)`, { mode: "stored" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("sender_domains_workspace").on(t.workspaceId),
    uniqueIndex("sender_domains_workspace_domain").on(t.workspaceId, t.domain),
    uniqueIndex("sender_domains_verified_domain").on(t.verifiedDomain),
  ],
);

export const userRateLimits = mysqlTable(
  "user_rate_limits",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: id("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    period: choice("period", ["hour", "day"]).notNull(),
    maxCount: int("max_count").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("user_rate_limits_user_period").on(t.userId, t.period)],
);

/** Append-only: triggers refuse UPDATE and DELETE (migrations-mysql/0001_audit_append_only.sql). */
export const auditLogs = mysqlTable(
  "audit_logs",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id"),
    actor: varchar("actor", { length: 255 }).notNull(),
    credentialId: id("credential_id"),
    action: varchar("action", { length: 128 }).notNull(),
    resource: varchar("resource", { length: 512 }).notNull(),
    ip: varchar("ip", { length: 64 }),
    outcome: choice("outcome", ["success", "denied", "error"]).notNull(),
    requestId: varchar("request_id", { length: 64 }),
    detail: json<Record<string, unknown>>("detail").notNull().default(jsonDefault({})),
    createdAt: createdAt(),
  },
  (t) => [index("audit_logs_workspace").on(t.workspaceId, t.createdAt)],
);

export const workspaceSecurity = mysqlTable(
  "workspace_security",
  {
    workspaceId: id("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
    // core/jwt.ts caps an issuer at 512 characters.
    jwtIssuer: varchar("jwt_issuer", { length: 512 }),
    jwt: json<Record<string, unknown>>("jwt"),
    retentionDays: int("retention_days"),
    dlp: json<Record<string, unknown>>("dlp"),
    llmApiKeyEnc: text("llm_api_key_enc"),
    updatedAt: updatedAt(),
  },
  (t) => [index("workspace_security_issuer").on(t.jwtIssuer)],
);

export const llmCache = mysqlTable(
  "llm_cache",
  {
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    contentHash: varchar("content_hash", { length: 128 }).notNull(),
    outputEnc: mediumtext("output_enc").notNull(),
    model: varchar("model", { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.contentHash] })],
);

export const llmUsage = mysqlTable(
  "llm_usage",
  {
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    day: varchar("day", { length: 10 }).notNull(),
    tokens: int("tokens").notNull().default(0),
    calls: int("calls").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day] })],
);
