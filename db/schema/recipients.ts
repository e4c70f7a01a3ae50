// Recipient records, their events and lists, and campaigns with their daily counters
// (db/mysql/schema/recipients.ts is the MySQL twin).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, updatedAt } from "./columns";
import { workspaces } from "./workspaces";

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
