// Customer webhook endpoints, their events and every delivery attempt: the MySQL twins of the
// D1 tables (db/schema), column for column.
import { boolean, index, int, mysqlTable, text, varchar } from "drizzle-orm/mysql-core";
import { choice, createdAt, id, json, ms, updatedAt } from "../columns";
import { workspaces } from "./workspaces";

export const webhookEndpoints = mysqlTable(
  "webhook_endpoints",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    // The API takes URLs of up to 2000 characters.
    url: varchar("url", { length: 2048 }).notNull(),
    secretEnc: text("secret_enc").notNull(),
    events: json<string[]>("events").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    description: text("description"),
    failingSince: ms("failing_since"),
    disabledAt: ms("disabled_at"),
    disabledReason: text("disabled_reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhook_endpoints_workspace").on(t.workspaceId)],
);

export const webhookEvents = mysqlTable(
  "webhook_events",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull(),
    endpointId: id("endpoint_id"),
    messageId: id("message_id"),
    type: varchar("type", { length: 64 }).notNull(),
    payload: json<Record<string, unknown>>("payload").notNull(),
    status: choice("status", ["pending", "delivered", "failed"]).notNull().default("pending"),
    attempts: int("attempts").notNull().default(0),
    nextAttemptAt: ms("next_attempt_at"),
    lastError: text("last_error"),
    lastStatusCode: int("last_status_code"),
    deliveredAt: ms("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_events_status").on(t.status, t.nextAttemptAt),
    index("webhook_events_message").on(t.messageId),
    index("webhook_events_endpoint").on(t.endpointId, t.createdAt),
  ],
);

export const webhookAttempts = mysqlTable(
  "webhook_attempts",
  {
    id: id("id").primaryKey(),
    eventId: id("event_id").notNull().references(() => webhookEvents.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    endpointId: id("endpoint_id").notNull(),
    attempt: int("attempt").notNull(),
    statusCode: int("status_code"),
    latencyMs: int("latency_ms").notNull(),
    error: text("error"),
    nextAttemptAt: ms("next_attempt_at"),
    createdAt: ms("created_at").notNull(),
  },
  (t) => [index("webhook_attempts_event").on(t.eventId, t.attempt)],
);
