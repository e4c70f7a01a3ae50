// What one delivery job reads and writes: the workspace's delivery facts, the message and the
// claim on its recipients (taken, renewed, handed back), each provider call's attempt row, and
// the recorded outcome. Plain SQL (db/raw-rows.ts, db/fast-insert.ts): this runs for every job.
import { and, eq } from "drizzle-orm";
import type { Db } from "../client";
import { deliveryAttempts, messageRecipients, messages, providers } from "../schema";
import { byShape, chunks, insertRows } from "../fast-insert";
import type { QuotaRow } from "../provider-quotas";
import type { ProviderRow } from "../providers";
import { columnList, mapRows, toStatement } from "../raw-rows";
import { deriveMessageStatus, PENDING_STATUSES, type MessageStatus, type RecipientStatus } from "../../core/status";
import { countTransitions } from "../campaigns";
import { deliveryEventInserts, type DeliveryEvent } from "../recipients";
import { utcDay } from "../../core/campaigns";
import type { RecipientOutcome } from "../../core/delivery/outcome";
import type { MessageRecipientRow, NewAttempt } from "./types";

/**
 * What delivery needs from the workspace: its settings, enabled providers (in priority order)
 * and their quotas. The consumer reads it once per workspace per queue batch.
 */
export interface WorkspaceDeliveryFacts {
  /** workspaces.configuration, parsed JSON but not validated ({} when absent). */
  workspaceConfig: unknown;
  providers: ProviderRow[];
  quotas: QuotaRow[];
}

export async function loadWorkspaceForDelivery(db: Db, workspaceId: string): Promise<WorkspaceDeliveryFacts> {
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

/** One provider call, written as it happens (failed-over calls leave a row even if the process dies). */
export async function insertAttempt(db: Db, row: NewAttempt): Promise<void> {
  await db.insert(deliveryAttempts).values(row);
}

/** Records that a job for this message is due on the queue at `at`, so the outbox leaves it alone until then. */
export async function markDueAt(db: Db, workspaceId: string, id: string, at: number): Promise<void> {
  await db.update(messages).set({ enqueuedAt: at }).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, id)));
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
  /** The recipient events of this outcome (delivery.sent, …), written in the same batch. */
  events?: DeliveryEvent[];
}

/** Recipients with the same outcome, which one statement updates (the common case: one call accepted them all). */
export function sameOutcomes(outcomes: readonly RecipientOutcome[]): { o: RecipientOutcome; ids: string[] }[] {
  const same = new Map<string, { o: RecipientOutcome; ids: string[] }>();
  const given = (v: string | null | undefined) => (v === undefined ? [0] : [1, v]);
  for (const o of outcomes) {
    const key = JSON.stringify([o.status, given(o.providerId), given(o.providerMessageId), given(o.lastError), !!o.uncountAttempt]);
    const group = same.get(key);
    if (group) group.ids.push(o.id);
    else same.set(key, { o, ids: [o.id] });
  }
  return [...same.values()];
}

/**
 * A recipient outcome's SET clause (both backends: `quote` quotes a column name, `max` is the
 * dialect's two-argument maximum). The outcome ends the claim: lease_until is set only while a
 * recipient is `sending`.
 */
export function recipientOutcomeSet(o: RecipientOutcome, at: number, quote: (column: string) => string, max: "max" | "GREATEST"): { set: string; values: unknown[] } {
  const set = [`${quote("status")} = ?`, `${quote("updated_at")} = ?`, `${quote("lease_until")} = NULL`];
  const values: unknown[] = [o.status, at];
  const put = (column: string, v: unknown) => {
    set.push(`${quote(column)} = ?`);
    values.push(v);
  };
  if (o.providerId !== undefined) put("provider_id", o.providerId);
  if (o.providerMessageId !== undefined) put("provider_message_id", o.providerMessageId);
  if (o.lastError !== undefined) put("last_error", o.lastError);
  if (o.status === "sent") put("sent_at", at);
  if (o.uncountAttempt) set.push(`${quote("attempts")} = ${max}(0, ${quote("attempts")} - 1)`);
  return { set: set.join(", "), values };
}

/**
 * The message row's SET clause for a record (both backends: `quote` quotes a column name): its
 * status, the attempt count, and each field the record gives; processed_at once it is final.
 */
export function messageRecordSet(r: DeliveryRecord, status: MessageStatus, quote: (column: string) => string): { set: string; values: unknown[] } {
  const set = [`${quote("status")} = ?`, `${quote("updated_at")} = ?`];
  const values: unknown[] = [status, r.at];
  const put = (column: string, v: unknown) => {
    set.push(`${quote(column)} = ?`);
    values.push(v);
  };
  if (r.countAttempt) set.push(`${quote("attempt_count")} = ${quote("attempt_count")} + 1`);
  if (r.notBefore !== undefined) put("not_before", r.notBefore);
  if (r.enqueuedAt !== undefined) put("enqueued_at", r.enqueuedAt);
  if (r.waitingOn !== undefined) put("waiting_on", r.waitingOn);
  if (r.lastError !== undefined) put("last_error", r.lastError);
  if (status === "sent" || status === "failed" || status === "partially_failed") put("processed_at", r.at);
  return { set: set.join(", "), values };
}

/** Writes an attempt's outcome (recipients, attempt row, message status) as one batch, in plain SQL (once per delivery). */
export async function recordDelivery(db: Db, r: DeliveryRecord): Promise<MessageStatus> {
  const d1 = db.$client;
  const status = deriveMessageStatus([...r.otherStatuses, ...r.outcomes.map((o) => o.status)]);
  // One statement per group of recipients with the same outcome; the ids go in as one JSON
  // parameter, so any number fits D1's 100-parameter cap.
  const stmts: D1PreparedStatement[] = sameOutcomes(r.outcomes).map(({ o, ids }) => {
    const { set, values } = recipientOutcomeSet(o, r.at, (c) => `"${c}"`, "max");
    // The message id keeps a grouped update on the (workspace_id, message_id) index: with only
    // the workspace, SQLite walked every recipient row of the workspace.
    return ids.length === 1
      ? d1.prepare(`UPDATE "message_recipients" SET ${set} WHERE "workspace_id" = ? AND "id" = ?`).bind(...values, r.workspaceId, ids[0])
      : d1
          .prepare(`UPDATE "message_recipients" SET ${set} WHERE "workspace_id" = ? AND "message_id" = ? AND "id" IN (SELECT "value" FROM json_each(?))`)
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
  const { set, values } = messageRecordSet(r, status, (c) => `"${c}"`);
  stmts.push(d1.prepare(`UPDATE "messages" SET ${set} WHERE "workspace_id" = ? AND "id" = ?`).bind(...values, r.workspaceId, r.messageId));
  if (r.events?.length) stmts.push(...deliveryEventInserts(d1, r.workspaceId, r.messageId, r.at, r.events));
  await d1.batch(stmts);
  return status;
}
