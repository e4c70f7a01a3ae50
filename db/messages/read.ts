// The API's reads of messages: one message with its recipients, attempts and attachments, and
// the filtered, paged list. Every function takes the workspace id and scopes its query by it:
// an id from another workspace is "not found".
import { and, desc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../client";
import { attachments, deliveryAttempts, messageRecipients, messages } from "../schema";
import type { MessageStatus } from "../../core/status";
import type { MessageRow } from "./types";

export async function getMessageDetail(db: Db, workspaceId: string, id: string) {
  const [msg, rcpts, attempts, atts] = await db.batch([
    db.select().from(messages).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, id))),
    db.select().from(messageRecipients).where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.messageId, id))),
    db
      .select()
      .from(deliveryAttempts)
      .where(and(eq(deliveryAttempts.workspaceId, workspaceId), eq(deliveryAttempts.messageId, id)))
      .orderBy(deliveryAttempts.startedAt),
    db.select().from(attachments).where(and(eq(attachments.workspaceId, workspaceId), eq(attachments.messageId, id))),
  ]);
  const message = msg[0];
  return message ? { message, recipients: rcpts, attempts, attachments: atts } : undefined;
}

export interface ListFilter {
  status?: MessageStatus;
  tag?: string;
  since?: number;
  until?: number;
  /** Exclusive upper bound (queuedAt, id) from the cursor. */
  before?: { queuedAt: number; id: string };
  limit: number;
}

export function listMessages(db: Db, workspaceId: string, f: ListFilter): Promise<MessageRow[]> {
  const where: SQL[] = [eq(messages.workspaceId, workspaceId)];
  if (f.status) where.push(eq(messages.status, f.status));
  if (f.tag) where.push(sql`exists (select 1 from json_each(${messages.tags}) where value = ${f.tag})`);
  if (f.since !== undefined) where.push(gte(messages.queuedAt, f.since));
  if (f.until !== undefined) where.push(lt(messages.queuedAt, f.until));
  if (f.before) {
    where.push(or(lt(messages.queuedAt, f.before.queuedAt), and(eq(messages.queuedAt, f.before.queuedAt), lt(messages.id, f.before.id)))!);
  }
  return db
    .select()
    .from(messages)
    .where(and(...where))
    .orderBy(desc(messages.queuedAt), desc(messages.id))
    .limit(f.limit)
    .all();
}
