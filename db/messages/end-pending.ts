// Ending a message's pending recipients outside a delivery: the sender's cancel and the
// dead-letter queue's failPending. Both re-derive the message status from its recipients.
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../client";
import { messageRecipients, messages } from "../schema";
import { deriveMessageStatus, type MessageStatus } from "../../core/status";
import { countPendingAsFailed } from "../campaigns";
import { utcDay } from "../../core/campaigns";

/**
 * Cancels every recipient not yet handed to a provider. Returns the resulting message status,
 * or null when nothing was cancellable (already sending/sent/failed).
 */
export async function cancelMessage(db: Db, workspaceId: string, id: string, at: number): Promise<MessageStatus | null> {
  const cancelled = await db
    .update(messageRecipients)
    .set({ status: "cancelled", updatedAt: at, lastError: "cancelled by the sender" })
    .where(
      and(
        eq(messageRecipients.workspaceId, workspaceId),
        eq(messageRecipients.messageId, id),
        inArray(messageRecipients.status, ["queued", "deferred"]),
      ),
    )
    .returning({ id: messageRecipients.id });
  if (cancelled.length === 0) return null;
  return refreshMessageStatus(db, workspaceId, id, at);
}

/** Marks every still-pending recipient failed (dead-letter path); returns how many. */
export async function failPending(db: Db, workspaceId: string, id: string, reason: string, at: number): Promise<number> {
  const fail = db
    .update(messageRecipients)
    .set({ status: "failed", lastError: reason, updatedAt: at })
    .where(
      and(
        eq(messageRecipients.workspaceId, workspaceId),
        eq(messageRecipients.messageId, id),
        inArray(messageRecipients.status, ["queued", "sending", "deferred"]),
      ),
    )
    .returning({ id: messageRecipients.id });
  // The campaign count reads the statuses the update is about to change (one transaction).
  const [, rows] = await db.batch([countPendingAsFailed(db, workspaceId, id, utcDay(at)), fail]);
  if (rows.length > 0) await refreshMessageStatus(db, workspaceId, id, at);
  return rows.length;
}

async function refreshMessageStatus(db: Db, workspaceId: string, id: string, at: number): Promise<MessageStatus> {
  const rows = await db
    .select({ status: messageRecipients.status })
    .from(messageRecipients)
    .where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.messageId, id)))
    .all();
  const status = deriveMessageStatus(rows.map((r) => r.status));
  await db.update(messages).set({ status, updatedAt: at }).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, id)));
  return status;
}
