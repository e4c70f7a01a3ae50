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
import { byShape, insertRows } from "./fast-insert";
import { enabledProvidersQuery } from "./providers";
import { providerQuotaQuery } from "./provider-quotas";
import { deriveMessageStatus, PENDING_STATUSES, type MessageStatus, type RecipientStatus } from "../core/status";
import { countPendingAsFailed, countTransitions } from "./campaigns";
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
  /** Written as `queued`; the batch turns it `failed` when every recipient is suppressed. */
  message: typeof messages.$inferInsert;
  /** Status and last error are decided in the batch (suppression), not by the caller. */
  recipients: Omit<typeof messageRecipients.$inferInsert, "status" | "lastError" | "recipientId">[];
  headerNames: string[];
  attachments: (typeof attachments.$inferInsert)[];
  /** The request's idempotency record; its response body is written from what the batch decided. */
  idempotency?: { key: string; requestHash: string; createdAt: number };
  /** UTC day the campaign counters go to (message.campaignId must be set). */
  campaignDay?: string;
}

export interface InsertedMessage {
  status: "queued" | "failed";
  /** By exact address: queued, or suppressed with the reason. */
  recipients: Map<string, { status: "queued" | "suppressed"; lastError: string | null }>;
}

const RECIPIENTS_PER_STATEMENT = 8;

/**
 * Everything the accept path writes, as one D1 batch (one transaction), and the accept path's
 * only round trip to D1 before answering. Suppression is decided inside it: each recipient row
 * is inserted `suppressed` when the workspace's recipient record for the address (any case) is
 * not active, and RETURNING tells the caller which. The message turns `failed` when nobody is
 * left; the campaign counters and the idempotency record's stored answer are computed from the
 * rows just written, so they always agree with them. Plain prepared statements
 * (db/fast-insert.ts): this runs once per accepted message.
 */
export async function insertMessage(db: Db, m: NewMessage): Promise<InsertedMessage> {
  const d1 = db.$client;
  const ws = m.message.workspaceId;
  const id = m.message.id;
  const stmts: D1PreparedStatement[] = [insertRows(d1, messages, [{ ...m.message, status: "queued" }])];
  // Every address a workspace mails becomes a recipient record (the suppression list, events
  // and personalization hang off it); existing records are left as they are.
  for (const chunk of chunks(m.recipients, 25)) {
    stmts.push(insertRows(d1, recipients, chunk.map((r) => ({ id: newId("rcp"), workspaceId: ws, email: r.email })), "ignore"));
  }
  // D1 caps bound parameters per statement at 100, so rows go in chunks.
  const recipientStatements: number[] = [];
  for (const chunk of chunks(m.recipients, RECIPIENTS_PER_STATEMENT)) {
    recipientStatements.push(stmts.length);
    stmts.push(d1.prepare(insertRecipientsSql(chunk.length)).bind(id, ws, m.message.updatedAt ?? Date.now(), ws, ws, ...chunk.flatMap((r) => [r.id, r.email, r.kind])));
  }
  stmts.push(
    d1
      .prepare(`UPDATE "messages" SET "status" = 'failed' WHERE "id" = ? AND NOT EXISTS (SELECT 1 FROM "message_recipients" WHERE "message_id" = ? AND "status" = 'queued')`)
      .bind(id, id),
  );
  for (const chunk of chunks(m.headerNames, 30)) {
    stmts.push(insertRows(d1, messageHeaders, chunk.map((name) => ({ messageId: id, workspaceId: ws, name }))));
  }
  for (const shaped of byShape(m.attachments)) for (const chunk of chunks(shaped, 10)) stmts.push(insertRows(d1, attachments, chunk));
  if (m.message.campaignId && m.campaignDay) {
    // Counted in the same batch: a stored message is always counted, a refused one never.
    stmts.push(
      d1
        .prepare(
          `INSERT INTO "campaign_stats" ("campaign_id", "workspace_id", "day", "queued", "suppressed")
           SELECT ?, ?, ?, coalesce(sum("status" = 'queued'), 0), coalesce(sum("status" = 'suppressed'), 0) FROM "message_recipients" WHERE "message_id" = ?
           ON CONFLICT ("campaign_id", "day") DO UPDATE SET "queued" = "queued" + excluded."queued", "suppressed" = "suppressed" + excluded."suppressed"`,
        )
        .bind(m.message.campaignId, ws, m.campaignDay, id),
    );
  }
  // Last, so a duplicate key aborts the whole batch and nothing above is kept. The stored
  // answer is the accept response (see AcceptedBody in workers/accept.ts), recipients in order.
  if (m.idempotency) {
    stmts.push(
      d1
        .prepare(
          `INSERT INTO "idempotency_keys" ("workspace_id", "key", "request_hash", "message_id", "response_status", "response_body", "created_at")
           SELECT ?, ?, ?, m."id", 202, json_object('id', m."id", 'status', m."status", 'message_id', m."message_id_header", 'recipients',
             (SELECT json_group_array(json_object('email', r."email", 'status', r."status"))
                FROM (SELECT "email", "status" FROM "message_recipients" WHERE "message_id" = m."id" ORDER BY rowid) r)), ?
           FROM "messages" m WHERE m."id" = ?`,
        )
        .bind(ws, m.idempotency.key, m.idempotency.requestHash, m.idempotency.createdAt, id),
    );
  }
  const results = await d1.batch<{ email: string; status: "queued" | "suppressed"; last_error: string | null }>(stmts);
  const out = new Map<string, { status: "queued" | "suppressed"; lastError: string | null }>();
  for (const i of recipientStatements) for (const r of results[i]?.results ?? []) out.set(r.email, { status: r.status, lastError: r.last_error });
  return { status: [...out.values()].some((r) => r.status === "queued") ? "queued" : "failed", recipients: out };
}

// Parameters, in order: message id, workspace id, updated_at, workspace id (recipient record),
// workspace id (suppression), then (id, email, kind) per row. A recipient is suppressed when the
// workspace's record for the address, in any case, is not active (bounced, complained,
// unsubscribed); the index on (workspace_id, lower(email)) serves that lookup.
const recipientsSqlCache = new Map<number, string>();
function insertRecipientsSql(rows: number): string {
  let text = recipientsSqlCache.get(rows);
  if (!text) {
    text = `INSERT INTO "message_recipients" ("id", "message_id", "workspace_id", "email", "kind", "status", "last_error", "updated_at", "recipient_id")
      SELECT x.column1, ?, ?, x.column2, x.column3,
        CASE WHEN x.why IS NULL THEN 'queued' ELSE 'suppressed' END,
        CASE WHEN x.why IS NULL THEN NULL ELSE 'suppressed: the address ' || x.why END,
        ?, (SELECT "id" FROM "recipients" WHERE "workspace_id" = ? AND "email" = x.column2)
      FROM (SELECT v.column1, v.column2, v.column3,
              (SELECT "status" FROM "recipients" s WHERE s."workspace_id" = ? AND lower(s."email") = lower(v.column2) AND s."status" <> 'active' LIMIT 1) AS why
            FROM (VALUES ${Array(rows).fill("(?, ?, ?)").join(", ")}) v) x
      RETURNING "email", "status", "last_error"`;
    recipientsSqlCache.set(rows, text);
  }
  return text;
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
