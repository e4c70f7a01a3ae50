// The accept path's write: a message, its recipients, headers, attachments, campaign counters
// and idempotency record, as one D1 batch; and the idempotency lookup that precedes it.
import { and, eq } from "drizzle-orm";
import type { Db } from "../client";
import { attachments, idempotencyKeys, messageHeaders, messageRecipients, messages, recipients } from "../schema";
import { newId } from "../../core/ids";
import { byShape, chunks, insertRows } from "../fast-insert";

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

export const findIdempotencyRecord = (db: Db, workspaceId: string, key: string) =>
  db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, key))).get();
