// Recipient records, their events and lists, and campaigns with their daily counters: the MySQL
// twins of the D1 tables (db/schema), column for column.
import { sql } from "drizzle-orm";
import { index, int, mediumtext, mysqlTable, primaryKey, text, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { choice, createdAt, email, id, json, jsonDefault, updatedAt } from "../columns";
import { workspaces } from "./workspaces";

export const recipients = mysqlTable(
  "recipients",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: email("email").notNull(),
    /**
     * lower(email), computed by the database. SQLite indexes the expression (workspace_id,
     * lower(email)); MariaDB cannot (MySQL 8 could), so suppression lookups compare this column.
     * MySQL's lower() folds every letter, SQLite's only ASCII.
     */
    emailLower: email("email_lower").generatedAlwaysAs(sql`(lower(email))`, { mode: "stored" }),
    status: choice("status", ["active", "bounced", "complained", "unsubscribed"]).notNull().default("active"),
    bounceCount: int("bounce_count").notNull().default(0),
    firstNameEnc: text("first_name_enc"),
    lastNameEnc: text("last_name_enc"),
    fieldsEnc: mediumtext("fields_enc"),
    metadata: json<Record<string, unknown>>("metadata").notNull().default(jsonDefault({})),
    campaignId: id("campaign_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("recipients_workspace_email").on(t.workspaceId, t.email),
    index("recipients_workspace_email_lower").on(t.workspaceId, t.emailLower),
  ],
);

export const recipientEvents = mysqlTable(
  "recipient_events",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull(),
    recipientId: id("recipient_id"),
    messageRecipientId: id("message_recipient_id"),
    messageId: id("message_id"),
    type: varchar("type", { length: 64 }).notNull(),
    detail: json<Record<string, unknown>>("detail").notNull().default(jsonDefault({})),
    createdAt: createdAt(),
  },
  (t) => [index("recipient_events_recipient").on(t.recipientId), index("recipient_events_workspace").on(t.workspaceId, t.createdAt)],
);

export const recipientLists = mysqlTable(
  "recipient_lists",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    // The API takes names of up to 200 characters.
    name: varchar("name", { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("recipient_lists_workspace_name").on(t.workspaceId, t.name)],
);

export const recipientListMembers = mysqlTable(
  "recipient_list_members",
  {
    listId: id("list_id").notNull().references(() => recipientLists.id, { onDelete: "cascade" }),
    recipientId: id("recipient_id").notNull().references(() => recipients.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.listId, t.recipientId] })],
);

export const campaigns = mysqlTable(
  "campaigns",
  {
    id: id("id").primaryKey(),
    workspaceId: id("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    status: choice("status", ["draft", "active", "completed", "cancelled"]).notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("campaigns_workspace").on(t.workspaceId)],
);

export const campaignStats = mysqlTable(
  "campaign_stats",
  {
    campaignId: id("campaign_id").notNull().references(() => campaigns.id, { onDelete: "cascade" }),
    workspaceId: id("workspace_id").notNull(),
    // UTC day, YYYY-MM-DD.
    day: varchar("day", { length: 10 }).notNull(),
    queued: int("queued").notNull().default(0),
    sent: int("sent").notNull().default(0),
    delivered: int("delivered").notNull().default(0),
    bounced: int("bounced").notNull().default(0),
    complained: int("complained").notNull().default(0),
    failed: int("failed").notNull().default(0),
    suppressed: int("suppressed").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.day] })],
);
