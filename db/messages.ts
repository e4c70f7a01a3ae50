// Messages, their recipients, headers, attachments and delivery attempts. Every function takes
// the workspace id and scopes its query by it: an id from another workspace is "not found".
import { and, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import {
  attachments,
  deliveryAttempts,
  idempotencyKeys,
  messageHeaders,
  messageRecipients,
  messages,
  recipients,
  workspaces,
} from "./schema";
import { newId } from "../core/ids";
import { byShape, insertRows, SqlValue, toStatement } from "./fast-insert";
import { enabledProvidersQuery } from "./providers";
import { providerQuotaQuery } from "./provider-quotas";
import { deriveMessageStatus, PENDING_STATUSES, type MessageStatus, type RecipientStatus } from "../core/status";
import { addCampaignCounts, countPendingAsFailed, countTransitions } from "./campaigns";
import { utcDay } from "../core/campaigns";

export type MessageRow = typeof messages.$inferSelect;
export type MessageRecipientRow = typeof messageRecipients.$inferSelect;
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = typeof deliveryAttempts.$inferInsert;

/** One provider call, written as it happens (failed-over calls leave a row even if the process dies). */
export async function insertAttempt(db: Db, row: NewAttempt): Promise<void> {
  await db.insert(deliveryAttempts).values(row);
}

export interface NewMessage {
  message: typeof messages.$inferInsert;
  recipients: (typeof messageRecipients.$inferInsert)[];
  headerNames: string[];
  attachments: (typeof attachments.$inferInsert)[];
  idempotency?: typeof idempotencyKeys.$inferInsert;
  /** The message's campaign counters for its recipients (message.campaignId must be set). */
  campaignCounts?: { day: string; queued: number; suppressed: number };
}

/**
 * Everything the accept path writes, as one D1 batch (one transaction). Plain prepared
 * statements (db/fast-insert.ts): this runs once per accepted message.
 */
export async function insertMessage(db: Db, m: NewMessage): Promise<void> {
  const d1 = db.$client;
  const ws = m.message.workspaceId;
  const stmts: D1PreparedStatement[] = [insertRows(d1, messages, [m.message])];
  // Every address a workspace mails becomes a recipient record (the suppression list, events
  // and personalization hang off it); existing records are left as they are.
  for (const chunk of chunks(m.recipients, 25)) {
    stmts.push(insertRows(d1, recipients, chunk.map((r) => ({ id: newId("rcp"), workspaceId: ws, email: r.email })), "ignore"));
  }
  // D1 caps bound parameters per statement at 100, so rows go in chunks.
  const recipientOf = (email: string) => new SqlValue(`(select "id" from "recipients" where "workspace_id" = ? and "email" = ?)`, [ws, email]);
  for (const shaped of byShape(m.recipients)) {
    for (const chunk of chunks(shaped, 8)) {
      stmts.push(insertRows(d1, messageRecipients, chunk.map((r) => ({ ...r, recipientId: recipientOf(r.email) }))));
    }
  }
  for (const chunk of chunks(m.headerNames, 30)) {
    stmts.push(insertRows(d1, messageHeaders, chunk.map((name) => ({ messageId: m.message.id, workspaceId: ws, name }))));
  }
  for (const shaped of byShape(m.attachments)) for (const chunk of chunks(shaped, 10)) stmts.push(insertRows(d1, attachments, chunk));
  const cc = m.campaignCounts;
  if (cc && m.message.campaignId && cc.queued + cc.suppressed > 0) {
    stmts.push(toStatement(d1, addCampaignCounts(db, { campaignId: m.message.campaignId, workspaceId: ws, day: cc.day }, { queued: cc.queued, suppressed: cc.suppressed })));
  }
  // Last, so a duplicate key aborts the whole batch and nothing above is kept.
  if (m.idempotency) stmts.push(insertRows(d1, idempotencyKeys, [m.idempotency]));
  await d1.batch(stmts);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const findIdempotencyRecord = (db: Db, workspaceId: string, key: string) =>
  db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, key))).get();

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

/** Everything one delivery needs, in one round trip: message, recipients, workspace settings, providers. */
export async function loadForDelivery(db: Db, workspaceId: string, id: string) {
  const [msg, rcpts, ws, provs, quotas] = await db.batch([
    db.select().from(messages).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, id))),
    db.select().from(messageRecipients).where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.messageId, id))),
    db.select({ configuration: workspaces.configuration }).from(workspaces).where(eq(workspaces.id, workspaceId)),
    enabledProvidersQuery(db, workspaceId),
    providerQuotaQuery(db, workspaceId),
  ]);
  const message = msg[0];
  return message ? { message, recipients: rcpts, workspaceConfig: ws[0]?.configuration ?? {}, providers: provs, quotas } : undefined;
}

/**
 * Marks pending recipients `sending` and returns the ones this consumer now owns. A recipient
 * already `sending` is taken over only when its lease expired (its consumer died mid-call);
 * `sent` and other final statuses are never taken, so redelivery never re-sends.
 */
export async function claimRecipients(
  db: Db,
  workspaceId: string,
  messageId: string,
  ids: string[],
  at: number,
  leaseMs: number,
): Promise<MessageRecipientRow[]> {
  if (ids.length === 0) return [];
  const [claimed] = await db.batch([
    db
    .update(messageRecipients)
    .set({ status: "sending", updatedAt: at, attempts: sql`${messageRecipients.attempts} + 1` })
    .where(
      and(
        eq(messageRecipients.workspaceId, workspaceId),
        eq(messageRecipients.messageId, messageId),
        inArray(messageRecipients.id, ids),
        or(
          inArray(messageRecipients.status, ["queued", "deferred"]),
          and(eq(messageRecipients.status, "sending"), lte(messageRecipients.updatedAt, at - leaseMs)),
        ),
      ),
    )
    .returning(),
    // Same round trip: the message shows `sending` while a provider call is in flight.
    db
      .update(messages)
      .set({ status: "sending", updatedAt: at })
      .where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, messageId), inArray(messages.status, ["queued", "deferred"]))),
  ]);
  return claimed;
}

/** Records that a job for this message is due on the queue at `at`, so the outbox leaves it alone until then. */
export async function markDueAt(db: Db, workspaceId: string, id: string, at: number): Promise<void> {
  await db.update(messages).set({ enqueuedAt: at }).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, id)));
}

export interface RecipientOutcome {
  id: string;
  status: RecipientStatus;
  providerId?: string | null;
  providerMessageId?: string | null;
  lastError?: string | null;
  /** The claim counted an attempt that never happened (a limit deferral): take it back. */
  uncountAttempt?: boolean;
}

export interface DeliveryRecord {
  workspaceId: string;
  messageId: string;
  at: number;
  outcomes: RecipientOutcome[];
  attempts?: (typeof deliveryAttempts.$inferInsert)[];
  /** Statuses of the message's recipients not touched by this attempt, to derive the message status. */
  otherStatuses: RecipientStatus[];
  notBefore?: number | null;
  /** When the job that will retry this message is due on the queue (for the outbox's grace). */
  enqueuedAt?: number | null;
  lastError?: string | null;
  countAttempt: boolean;
  /** The message's campaign: recipients leaving a pending status for sent/failed are counted in it. */
  campaignId?: string | null;
  /** More writes that belong to this outcome (recipient events), in the same transaction. */
  also?: BatchItem<"sqlite">[];
}

/** Writes an attempt's outcome (recipients, attempt row, message status) as one batch. */
export async function recordDelivery(db: Db, r: DeliveryRecord): Promise<MessageStatus> {
  const status = deriveMessageStatus([...r.otherStatuses, ...r.outcomes.map((o) => o.status)]);
  const stmts: BatchItem<"sqlite">[] = r.outcomes.map((o) =>
    db
      .update(messageRecipients)
      .set({
        status: o.status,
        updatedAt: r.at,
        ...(o.providerId !== undefined ? { providerId: o.providerId } : {}),
        ...(o.providerMessageId !== undefined ? { providerMessageId: o.providerMessageId } : {}),
        ...(o.lastError !== undefined ? { lastError: o.lastError } : {}),
        ...(o.status === "sent" ? { sentAt: r.at } : {}),
        ...(o.uncountAttempt ? { attempts: sql`max(0, ${messageRecipients.attempts} - 1)` } : {}),
      })
      .where(and(eq(messageRecipients.workspaceId, r.workspaceId), eq(messageRecipients.id, o.id))),
  );
  if (r.attempts?.length) stmts.push(db.insert(deliveryAttempts).values(r.attempts));
  if (r.campaignId) {
    // First in the batch: it reads the statuses the updates below are about to change.
    const counted = countTransitions(
      db,
      { campaignId: r.campaignId, workspaceId: r.workspaceId, day: utcDay(r.at), messageId: r.messageId },
      { sent: r.outcomes.filter((o) => o.status === "sent").map((o) => o.id), failed: r.outcomes.filter((o) => o.status === "failed").map((o) => o.id) },
      PENDING_STATUSES,
    );
    if (counted) stmts.unshift(counted);
  }
  stmts.push(
    db
      .update(messages)
      .set({
        status,
        updatedAt: r.at,
        ...(r.countAttempt ? { attemptCount: sql`${messages.attemptCount} + 1` } : {}),
        ...(r.notBefore !== undefined ? { notBefore: r.notBefore } : {}),
        ...(r.enqueuedAt !== undefined ? { enqueuedAt: r.enqueuedAt } : {}),
        ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
        ...(status === "sent" || status === "failed" || status === "partially_failed" ? { processedAt: r.at } : {}),
      })
      .where(and(eq(messages.workspaceId, r.workspaceId), eq(messages.id, r.messageId))),
  );
  if (r.also) stmts.push(...r.also);
  await db.batch(stmts as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return status;
}

/** Messages the outbox owes a queue job: pending, due, and not put on the queue within the grace. */
export function findOutboxDue(db: Db, now: number, graceMs: number, limit: number) {
  return db
    .select({ id: messages.id, workspaceId: messages.workspaceId })
    .from(messages)
    .where(
      and(
        inArray(messages.status, ["queued", "sending", "deferred"]),
        lt(sql`coalesce(${messages.enqueuedAt}, 0)`, now - graceMs),
        lte(sql`coalesce(${messages.notBefore}, 0)`, now),
      ),
    )
    .orderBy(messages.queuedAt)
    .limit(limit)
    .all();
}

export async function markEnqueued(db: Db, ids: string[], at: number): Promise<void> {
  for (const chunk of chunks(ids, 90)) {
    await db.update(messages).set({ enqueuedAt: at }).where(inArray(messages.id, chunk));
  }
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
