// Erasure of one recipient's personal data in a workspace (a data subject's request): the
// address is replaced by an opaque token wherever delivery records hold it, the content of
// messages sent to it is deleted (like retention), and the recipient's profile is removed.
// Messages still being delivered are left alone and reported, so the caller can retry later.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { deliveryAttempts, idempotencyKeys, messageRecipients, messages, recipientEvents, recipients } from "./schema";
import { chunks } from "./fast-insert";
import { markBodiesPurged } from "./retention";

const FINAL = new Set(["sent", "partially_failed", "failed", "cancelled"]);
const CHUNK = 90;

export interface ErasureResult {
  messages: number;
  pending: number;
  profiles: number;
}

export async function eraseRecipient(
  db: Db,
  workspaceId: string,
  email: string,
  replacement: string,
  at: number,
  /** Deletes the R2 objects; runs before the rows are marked purged, so a failure is retried. */
  deleteObjects: (keys: string[]) => Promise<void>,
): Promise<ErasureResult> {
  const lower = email.toLowerCase();
  const hits = await db
    .select({ id: messageRecipients.id, messageId: messageRecipients.messageId, status: messages.status, toEmails: messages.toEmails, bodyR2Key: messages.bodyR2Key, purgedAt: messages.bodyPurgedAt })
    .from(messageRecipients)
    .innerJoin(messages, and(eq(messages.workspaceId, workspaceId), eq(messages.id, messageRecipients.messageId)))
    .where(and(eq(messageRecipients.workspaceId, workspaceId), sql`lower(${messageRecipients.email}) = ${lower}`))
    .all();
  const done = hits.filter((h) => FINAL.has(h.status));
  const ids = done.map((h) => h.messageId);
  const swap = (list: string[]) => list.map((e) => (e.toLowerCase() === lower ? replacement : e));

  if (ids.length > 0) {
    // D1 binds at most 100 parameters per statement: ids go in parts (a subject may have had years of mail).
    const idParts = chunks(ids, CHUNK);
    const attempts = (
      await Promise.all(
        idParts.map((part) =>
          db
            .select({ id: deliveryAttempts.id, recipients: deliveryAttempts.recipients })
            .from(deliveryAttempts)
            .where(and(eq(deliveryAttempts.workspaceId, workspaceId), inArray(deliveryAttempts.messageId, part)))
            .all(),
        ),
      )
    ).flat();
    const [first, ...rest] = [
      ...idParts.map((part) =>
        db
          .update(messageRecipients)
          .set({ email: replacement, updatedAt: at })
          .where(and(eq(messageRecipients.workspaceId, workspaceId), inArray(messageRecipients.messageId, part), sql`lower(${messageRecipients.email}) = ${lower}`)),
      ),
      ...done.map((h) => db.update(messages).set({ toEmails: swap(h.toEmails), updatedAt: at }).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, h.messageId)))),
      // Events about this recipient's deliveries, and the stored first answers (they list recipients).
      ...chunks(done.map((h) => h.id), CHUNK).map((part) => db.delete(recipientEvents).where(and(eq(recipientEvents.workspaceId, workspaceId), inArray(recipientEvents.messageRecipientId, part)))),
      ...idParts.map((part) => db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, workspaceId), inArray(idempotencyKeys.messageId, part)))),
      ...attempts
        .filter((a) => a.recipients.some((e) => e.toLowerCase() === lower))
        .map((a) => db.update(deliveryAttempts).set({ recipients: swap(a.recipients) }).where(and(eq(deliveryAttempts.workspaceId, workspaceId), eq(deliveryAttempts.id, a.id)))),
    ];
    await db.batch([first!, ...rest]);
    const unpurged = done.filter((h) => h.purgedAt === null);
    await deleteObjects(unpurged.flatMap((h) => [...(h.bodyR2Key ? [h.bodyR2Key] : []), `rendered/${workspaceId}/${h.messageId}`]));
    await markBodiesPurged(db, workspaceId, unpurged.map((h) => h.messageId), at);
  }

  const profiles = await db
    .select({ id: recipients.id })
    .from(recipients)
    .where(and(eq(recipients.workspaceId, workspaceId), sql`lower(${recipients.email}) = ${lower}`))
    .all();
  if (profiles.length > 0) {
    const pids = profiles.map((p) => p.id);
    await db.batch([
      db.delete(recipientEvents).where(and(eq(recipientEvents.workspaceId, workspaceId), inArray(recipientEvents.recipientId, pids))),
      db.delete(recipients).where(and(eq(recipients.workspaceId, workspaceId), inArray(recipients.id, pids))),
    ]);
  }
  return {
    messages: ids.length,
    pending: hits.length - done.length,
    profiles: profiles.length,
  };
}

