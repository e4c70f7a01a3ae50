// The messages group (db/store/messages.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/messages.ts; db/messages/read.ts and end-pending.ts are the specification).
import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { attachments, deliveryAttempts, messageRecipients, messages } from "../schema";
import type { MessageStore } from "../../store/messages";
import { deriveMessageStatus, type MessageStatus } from "../../../core/status";
import type { Runner, Sql } from "./sql";

export function mysqlMessage(db: Runner): MessageStore {
  return {
    // One transaction: the four reads see one snapshot, as D1's batch.
    message: (ws, id) =>
      db.tx(async (q) => {
        const [message] = await q.orm
          .select()
          .from(messages)
          .where(and(eq(messages.workspaceId, ws), eq(messages.id, id)));
        if (!message) return undefined;
        const recipients = await q.orm
          .select()
          .from(messageRecipients)
          .where(and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, id)));
        const attempts = await q.orm
          .select()
          .from(deliveryAttempts)
          .where(and(eq(deliveryAttempts.workspaceId, ws), eq(deliveryAttempts.messageId, id)))
          .orderBy(deliveryAttempts.startedAt);
        const atts = await q.orm
          .select()
          .from(attachments)
          .where(and(eq(attachments.workspaceId, ws), eq(attachments.messageId, id)));
        return { message, recipients, attempts, attachments: atts };
      }),
    list: (ws, f) =>
      db.lagging.run((q) => {
        const where: SQL[] = [eq(messages.workspaceId, ws)];
        if (f.status) where.push(eq(messages.status, f.status));
        // D1's json_each: the tags array holds this exact string (JSON strings compare as utf8mb4_bin).
        if (f.tag) where.push(sql`JSON_CONTAINS(${messages.tags}, JSON_QUOTE(${f.tag}))`);
        if (f.since !== undefined) where.push(gte(messages.queuedAt, f.since));
        if (f.until !== undefined) where.push(lt(messages.queuedAt, f.until));
        if (f.before) {
          where.push(or(lt(messages.queuedAt, f.before.queuedAt), and(eq(messages.queuedAt, f.before.queuedAt), lt(messages.id, f.before.id)))!);
        }
        return q.orm
          .select()
          .from(messages)
          .where(and(...where))
          .orderBy(desc(messages.queuedAt), desc(messages.id))
          .limit(f.limit);
      }),
    cancel: (ws, id, at) => db.tx((q) => cancel(q, ws, id, at)),
  };
}

/**
 * db/messages/end-pending.ts cancelMessage. The message row is locked first, as every
 * transaction that changes a message and its recipients does (db/mysql/store/delivery.ts), so a
 * cancel queues behind a claim of the same message instead of deadlocking with it.
 */
async function cancel(q: Sql, ws: string, id: string, at: number): Promise<MessageStatus | null> {
  const [locked] = await q.rows(`SELECT \`id\` FROM \`messages\` WHERE \`workspace_id\` = ? AND \`id\` = ? FOR UPDATE`, [ws, id]);
  if (!locked) return null;
  const cancelled = await q.orm
    .update(messageRecipients)
    .set({ status: "cancelled", updatedAt: at, lastError: "cancelled by the sender" })
    .where(and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, id), inArray(messageRecipients.status, ["queued", "deferred"])));
  if (cancelled[0].affectedRows === 0) return null;
  const rows = await q.orm
    .select({ status: messageRecipients.status })
    .from(messageRecipients)
    .where(and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, id)));
  const status = deriveMessageStatus(rows.map((r) => r.status));
  await q.orm
    .update(messages)
    .set({ status, updatedAt: at })
    .where(and(eq(messages.workspaceId, ws), eq(messages.id, id)));
  return status;
}
