// Messages, their recipients, headers, attachments and delivery attempts. Every function takes
// the workspace id and scopes its query by it: an id from another workspace is "not found".
import { and, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import {
  attachments,
  deliveryAttempts,
  idempotencyKeys,
  messageHeaders,
  messageRecipients,
  messages,
  recipients,
} from "./schema";
import { newId } from "../core/ids";
import { byShape, insertRows } from "./fast-insert";
import { providers } from "./schema";
import type { QuotaRow } from "./provider-quotas";
import { columnList, mapRows, toStatement } from "./raw-rows";
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

/** A claim written before `lease_until` existed lapses this long after it was taken (the old fixed lease). */
export const LEGACY_CLAIM_LEASE_MS = 2 * 60 * 1000;

/** When a `sending` recipient's claim lapses. */
export const claimLapsesAt = (r: Pick<MessageRecipientRow, "leaseUntil" | "updatedAt">): number => r.leaseUntil ?? r.updatedAt + LEGACY_CLAIM_LEASE_MS;

/** SQL for the same, on a message_recipients row. */
const LAPSES_AT_SQL = `coalesce("lease_until", "updated_at" + ${LEGACY_CLAIM_LEASE_MS})`;

/** How the claim sizes its first lease: the deadlines of the workspace's providers (core/deadline.ts). */
export interface ClaimLease {
  /** Deadline of a provider whose config names no timeout_ms, by type, and for any other type. */
  defaultDeadlineMs: (type: string) => number;
  marginMs: number;
}

/**
 * A delivery job's message and the claim on its recipients, in one batch: the message, its
 * recipients (as they were before the claim), then pending recipients marked `sending` for this
 * consumer. A recipient already `sending` is taken over only when its claim lapsed (its
 * consumer died, perhaps mid-call); `sent` and other final statuses are never taken, so
 * redelivery never re-sends. Nothing is claimed for a message whose not_before is later than
 * `dueBy` (a job that arrived early). Plain SQL (db/raw-rows.ts): this runs for every delivery job.
 *
 * The claim's first lease (`lease_until`) is the longest deadline among the workspace's enabled
 * providers plus the margin, computed in the same statement: it covers the job's first provider
 * call, whichever provider routing picks, without a renewal round trip (renewClaim extends it
 * before any later call). The claim is identified by its `updated_at` (= `at`), which renewals
 * leave alone.
 */
export async function loadAndClaim(db: Db, workspaceId: string, id: string, at: number, lease: ClaimLease | number, dueBy: number) {
  const d1 = db.$client;
  // A number is a fixed lease (ms), for callers that know it.
  const leaseSql =
    typeof lease === "number"
      ? { text: `? + ?`, values: [at, lease] }
      : {
          text: `? + ? + coalesce((SELECT max(coalesce(json_extract("config", '$.timeout_ms'), CASE "type" WHEN 'gmail' THEN ? ELSE ? END))
             FROM "providers" WHERE "workspace_id" = ? AND "status" = 'enabled'), ?)`,
          values: [at, lease.marginMs, lease.defaultDeadlineMs("gmail"), lease.defaultDeadlineMs(""), workspaceId, lease.defaultDeadlineMs("")],
        };
  const [msg, rcpts, claimed] = await d1.batch([
    d1.prepare(`SELECT ${columnList(messages)} FROM "messages" WHERE "workspace_id" = ? AND "id" = ?`).bind(workspaceId, id),
    d1.prepare(`SELECT ${columnList(messageRecipients)} FROM "message_recipients" WHERE "workspace_id" = ? AND "message_id" = ?`).bind(workspaceId, id),
    d1
      .prepare(
        `UPDATE "message_recipients" SET "status" = 'sending', "updated_at" = ?, "attempts" = "attempts" + 1,
           "lease_until" = ${leaseSql.text}
         WHERE "workspace_id" = ? AND "message_id" = ?
           AND ("status" IN ('queued', 'deferred') OR ("status" = 'sending' AND ${LAPSES_AT_SQL} <= ?))
           AND EXISTS (SELECT 1 FROM "messages" WHERE "workspace_id" = ? AND "id" = ? AND coalesce("not_before", 0) <= ?)
         RETURNING ${columnList(messageRecipients)}`,
      )
      .bind(
        at,
        ...leaseSql.values,
        workspaceId,
        id,
        at,
        workspaceId,
        id,
        dueBy,
      ),
    // The message shows `sending` while a provider call is in flight.
    d1
      .prepare(
        `UPDATE "messages" SET "status" = 'sending', "updated_at" = ?
         WHERE "workspace_id" = ? AND "id" = ? AND "status" IN ('queued', 'deferred') AND coalesce("not_before", 0) <= ?`,
      )
      .bind(at, workspaceId, id, dueBy),
  ]);
  const message = mapRows(messages, msg)[0];
  if (!message) return undefined;
  return { message, recipients: mapRows(messageRecipients, rcpts), claimed: mapRows(messageRecipients, claimed) };
}

/**
 * What delivery needs from the workspace: its settings, enabled providers (in priority order)
 * and their quotas. The consumer reads it once per workspace per queue batch.
 */
export async function loadWorkspaceForDelivery(db: Db, workspaceId: string) {
  const d1 = db.$client;
  const [ws, provs, quotas] = await d1.batch([
    d1.prepare(`SELECT "configuration" FROM "workspaces" WHERE "id" = ?`).bind(workspaceId),
    d1
      .prepare(`SELECT ${columnList(providers)} FROM "providers" WHERE "workspace_id" = ? AND "status" = 'enabled' ORDER BY "priority", "created_at"`)
      .bind(workspaceId),
    d1.prepare(`SELECT "provider_id", "period", "max_count", "burst" FROM "rate_limits" WHERE "workspace_id" = ? AND "scope" = 'provider'`).bind(workspaceId),
  ]);
  const config = (ws?.results[0] as { configuration: string } | undefined)?.configuration;
  return {
    workspaceConfig: config ? (JSON.parse(config) as unknown) : {},
    providers: mapRows(providers, provs),
    quotas: (quotas?.results ?? []).map((q) => {
      const r = q as { provider_id: string | null; period: QuotaRow["period"]; max_count: number; burst: number | null };
      return { providerId: r.provider_id, period: r.period, maxCount: r.max_count, burst: r.burst } satisfies QuotaRow;
    }),
  };
}

/**
 * Extends this job's claim (the message's recipients it marked `sending` at `claimedAt`) to at
 * least `until`, right before a provider call: a lease is never shortened (another call of the
 * same job may still be in flight), and rows no longer carrying this claim are left alone.
 * Returns the ids still held: a recipient missing from it was taken over by another consumer
 * (this job's claim lapsed), and this job must not call a provider for it. One small statement;
 * inside a queue batch it shares the batch's D1 round trip with the other jobs' statements.
 */
export async function renewClaim(db: Db, workspaceId: string, messageId: string, claimedAt: number, until: number): Promise<Set<string>> {
  const d1 = db.$client;
  const [rows] = await d1.batch<{ id: string }>([
    d1
      .prepare(
        `UPDATE "message_recipients" SET "lease_until" = max(coalesce("lease_until", 0), ?)
         WHERE "workspace_id" = ? AND "message_id" = ? AND "status" = 'sending' AND "updated_at" = ?
         RETURNING "id"`,
      )
      .bind(until, workspaceId, messageId, claimedAt),
  ]);
  return new Set((rows?.results ?? []).map((r) => r.id));
}

/**
 * Messages with a recipient whose claim lapsed (its consumer died, perhaps mid-call) and no job
 * due since: the outbox enqueues them at once, without its grace (which is for jobs that may
 * still be on the queue; a lapsed claim's job is gone or waiting for exactly this). Served by the
 * partial index on sending recipients' lease_until.
 */
export async function findLapsedClaims(db: Db, now: number, limit: number) {
  const d1 = db.$client;
  const rows = await d1
    .prepare(
      `SELECT m."id", m."workspace_id", m."size_bytes" FROM "messages" m
       JOIN (SELECT "message_id", max("lease_until") AS "lapsed_at" FROM "message_recipients"
             WHERE "status" = 'sending' AND "lease_until" <= ? GROUP BY "message_id") r ON r."message_id" = m."id"
       WHERE m."status" IN ('queued', 'sending', 'deferred') AND coalesce(m."enqueued_at", 0) < r."lapsed_at" AND coalesce(m."not_before", 0) <= ?
       LIMIT ?`,
    )
    .bind(now, now, limit)
    .all<{ id: string; workspace_id: string; size_bytes: number }>();
  return rows.results.map((r) => ({ id: r.id, workspaceId: r.workspace_id, sizeBytes: r.size_bytes }));
}

/** The next time a live claim lapses (null: none is held), so the sweeper can look right then. */
export async function nextClaimLapse(db: Db, now: number): Promise<number | null> {
  const row = await db.$client
    .prepare(`SELECT min("lease_until") AS "at" FROM "message_recipients" WHERE "status" = 'sending' AND "lease_until" > ?`)
    .bind(now)
    .first<{ at: number | null }>();
  return row?.at ?? null;
}

/**
 * Hands a claim back when the job failed before any provider was called (a render or storage
 * error): each recipient returns to the status it had, with its attempt uncounted, so the
 * queue's retry finds it pending instead of waiting out the lease. Only rows still carrying this
 * claim (sending, stamped `claimedAt`) are touched.
 */
export async function releaseClaim(
  db: Db,
  workspaceId: string,
  messageId: string,
  /** The claimed recipients with the status each had before the claim (a lapsed `sending` goes back as `deferred`). */
  rows: { id: string; status: RecipientStatus }[],
  /** The message's status before the claim. */
  messageStatus: MessageStatus,
  claimedAt: number,
): Promise<void> {
  if (rows.length === 0) return;
  const d1 = db.$client;
  const before = rows.map((r) => ({ id: r.id, status: r.status === "sending" ? "deferred" : r.status }));
  await d1.batch([
    d1
      .prepare(`UPDATE "messages" SET "status" = ? WHERE "workspace_id" = ? AND "id" = ? AND "status" = 'sending' AND "updated_at" = ?`)
      .bind(messageStatus === "sending" ? "deferred" : messageStatus, workspaceId, messageId, claimedAt),
    d1
      .prepare(
        `UPDATE "message_recipients" SET "status" = x.value ->> '$.status', "attempts" = max(0, "attempts" - 1), "lease_until" = NULL
         FROM json_each(?) x
         WHERE "message_recipients"."workspace_id" = ? AND "message_recipients"."message_id" = ? AND "message_recipients"."id" = x.value ->> '$.id'
           AND "message_recipients"."status" = 'sending' AND "message_recipients"."updated_at" = ?`,
      )
      .bind(JSON.stringify(before), workspaceId, messageId, claimedAt),
  ]);
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
  /** What the message now waits on (messages.waiting_on): a provider id, "*", "limit:<rule>", or null. */
  waitingOn?: string | null;
  lastError?: string | null;
  countAttempt: boolean;
  /** The message's campaign: recipients leaving a pending status for sent/failed are counted in it. */
  campaignId?: string | null;
  /** More writes that belong to this outcome (recipient events), in the same transaction. */
  also?: D1PreparedStatement[];
}

/** Writes an attempt's outcome (recipients, attempt row, message status) as one batch, in plain SQL (once per delivery). */
export async function recordDelivery(db: Db, r: DeliveryRecord): Promise<MessageStatus> {
  const d1 = db.$client;
  const status = deriveMessageStatus([...r.otherStatuses, ...r.outcomes.map((o) => o.status)]);
  // Recipients with the same outcome (the common case: one provider call accepted them all) are
  // updated by one statement; the ids go in as one JSON parameter, so any number fits D1's
  // 100-parameter cap.
  const same = new Map<string, { o: RecipientOutcome; ids: string[] }>();
  const given = (v: string | null | undefined) => (v === undefined ? [0] : [1, v]);
  for (const o of r.outcomes) {
    const key = JSON.stringify([o.status, given(o.providerId), given(o.providerMessageId), given(o.lastError), !!o.uncountAttempt]);
    const group = same.get(key);
    if (group) group.ids.push(o.id);
    else same.set(key, { o, ids: [o.id] });
  }
  const stmts: D1PreparedStatement[] = [...same.values()].map(({ o, ids }) => {
    // The outcome ends the claim: lease_until is set only while a recipient is `sending`.
    const set = ['"status" = ?', '"updated_at" = ?', '"lease_until" = NULL'];
    const values: unknown[] = [o.status, r.at];
    const put = (column: string, v: unknown) => {
      set.push(`"${column}" = ?`);
      values.push(v);
    };
    if (o.providerId !== undefined) put("provider_id", o.providerId);
    if (o.providerMessageId !== undefined) put("provider_message_id", o.providerMessageId);
    if (o.lastError !== undefined) put("last_error", o.lastError);
    if (o.status === "sent") put("sent_at", r.at);
    if (o.uncountAttempt) set.push('"attempts" = max(0, "attempts" - 1)');
    // The message id keeps a grouped update on the (workspace_id, message_id) index: with only
    // the workspace, SQLite walked every recipient row of the workspace.
    return ids.length === 1
      ? d1.prepare(`UPDATE "message_recipients" SET ${set.join(", ")} WHERE "workspace_id" = ? AND "id" = ?`).bind(...values, r.workspaceId, ids[0])
      : d1
          .prepare(`UPDATE "message_recipients" SET ${set.join(", ")} WHERE "workspace_id" = ? AND "message_id" = ? AND "id" IN (SELECT "value" FROM json_each(?))`)
          .bind(...values, r.workspaceId, r.messageId, JSON.stringify(ids));
  });
  if (r.attempts?.length) for (const shaped of byShape(r.attempts)) for (const chunk of chunks(shaped, 7)) stmts.push(insertRows(d1, deliveryAttempts, chunk));
  if (r.campaignId) {
    // First in the batch: it reads the statuses the updates below are about to change.
    const counted = countTransitions(
      db,
      { campaignId: r.campaignId, workspaceId: r.workspaceId, day: utcDay(r.at), messageId: r.messageId },
      { sent: r.outcomes.filter((o) => o.status === "sent").map((o) => o.id), failed: r.outcomes.filter((o) => o.status === "failed").map((o) => o.id) },
      PENDING_STATUSES,
    );
    if (counted) stmts.unshift(toStatement(d1, counted));
  }
  const set = ['"status" = ?', '"updated_at" = ?'];
  const values: unknown[] = [status, r.at];
  const put = (column: string, v: unknown) => {
    set.push(`"${column}" = ?`);
    values.push(v);
  };
  if (r.countAttempt) set.push('"attempt_count" = "attempt_count" + 1');
  if (r.notBefore !== undefined) put("not_before", r.notBefore);
  if (r.enqueuedAt !== undefined) put("enqueued_at", r.enqueuedAt);
  if (r.waitingOn !== undefined) put("waiting_on", r.waitingOn);
  if (r.lastError !== undefined) put("last_error", r.lastError);
  if (status === "sent" || status === "failed" || status === "partially_failed") put("processed_at", r.at);
  stmts.push(d1.prepare(`UPDATE "messages" SET ${set.join(", ")} WHERE "workspace_id" = ? AND "id" = ?`).bind(...values, r.workspaceId, r.messageId));
  if (r.also) stmts.push(...r.also);
  await d1.batch(stmts);
  return status;
}

/** Messages the outbox owes a queue job: pending, due, and not put on the queue within the grace. */
export function findOutboxDue(db: Db, now: number, graceMs: number, limit: number) {
  return db
    .select({ id: messages.id, workspaceId: messages.workspaceId, sizeBytes: messages.sizeBytes })
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

/**
 * A provider's breaker half-opened or closed: the workspace's messages deferred on it (or on
 * every provider, "*", or pinned to it, "pin:<id>", which they stay: core/routing/release.ts)
 * become due now, at most `limit` of them, soonest first. One statement:
 * they are marked due and enqueued (enqueued_at, so the outbox waits its grace before adding a
 * job of its own) and stop waiting; the caller puts their jobs on the queue. Idempotent: a
 * message released twice gets two jobs, and the second claims nothing.
 */
export async function releaseDeferredOn(db: Db, workspaceId: string, providerId: string, now: number, limit: number) {
  const d1 = db.$client;
  const rows = await d1
    .prepare(
      `UPDATE "messages" SET "not_before" = ?, "enqueued_at" = ?,
         "waiting_on" = CASE WHEN "waiting_on" LIKE 'pin:%' THEN "waiting_on" ELSE NULL END
       WHERE "id" IN (
         SELECT "id" FROM "messages"
         WHERE "workspace_id" = ? AND "waiting_on" IN (?, '*', 'pin:' || ?) AND "not_before" > ?
           AND "status" IN ('queued', 'sending', 'deferred')
         ORDER BY "not_before" LIMIT ?)
       RETURNING "id", "size_bytes"`,
    )
    .bind(now, now, workspaceId, providerId, providerId, now, limit)
    .all<{ id: string; size_bytes: number }>();
  return rows.results.map((r) => ({ id: r.id, sizeBytes: r.size_bytes }));
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
