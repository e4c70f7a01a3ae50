// Tenancy, credentials, sender domains, security settings, per-user limits, the audit trail and
// the LLM cache and ledger (db/mysql/schema/workspaces.ts is the MySQL twin).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "./columns";

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
