// What puts messages (back) on the queue: the outbox's sweep for messages owed a job, claims
// that lapsed (their consumer died), and deferred messages a provider's recovery releases.
import { and, inArray, lt, lte, sql } from "drizzle-orm";
import type { Db } from "../client";
import { messages } from "../schema";
import { chunks } from "../fast-insert";

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
