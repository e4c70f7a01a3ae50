// Recipient profiles per workspace: address, status (suppression), and the encrypted name and
// custom fields. Encryption happens in the caller (workers/api/recipients.ts); this module only
// moves ciphertext.
import { and, desc, eq, inArray, lt, ne, or, sql } from "drizzle-orm";
import { decryptText, type Keyring } from "../core/crypto";
import { newId } from "../core/ids";
import type { Db } from "./client";
import { recipientEvents, recipientListMembers, recipients } from "./schema";

export type RecipientRow = typeof recipients.$inferSelect;
export type RecipientStatus = RecipientRow["status"];

export const recipientAad = (workspaceId: string, recipientId: string, what: "first_name" | "last_name" | "fields") =>
  `${workspaceId}/${recipientId}/${what}`;

export interface RecipientData {
  firstName: string | null;
  lastName: string | null;
  fields: Record<string, string>;
}

/** Decrypts a profile's name and fields (the API, strict mode at accept, per-recipient rendering). */
export async function openRecipient(keys: Keyring, r: RecipientRow): Promise<RecipientData> {
  return {
    firstName: r.firstNameEnc ? await decryptText(keys, r.firstNameEnc, recipientAad(r.workspaceId, r.id, "first_name")) : null,
    lastName: r.lastNameEnc ? await decryptText(keys, r.lastNameEnc, recipientAad(r.workspaceId, r.id, "last_name")) : null,
    fields: r.fieldsEnc ? (JSON.parse(await decryptText(keys, r.fieldsEnc, recipientAad(r.workspaceId, r.id, "fields"))) as Record<string, string>) : {},
  };
}

// D1 binds at most 100 parameters per statement.
const CHUNK = 90;

export const getRecipient = (db: Db, workspaceId: string, id: string): Promise<RecipientRow | undefined> =>
  db.select().from(recipients).where(and(eq(recipients.workspaceId, workspaceId), eq(recipients.id, id))).get();

/** Profiles for these addresses (compared case-insensitively), in as few queries as D1 allows. */
export async function recipientsByEmails(db: Db, workspaceId: string, emails: string[]): Promise<RecipientRow[]> {
  const lower = [...new Set(emails.map((e) => e.toLowerCase()))];
  const out: RecipientRow[] = [];
  for (let i = 0; i < lower.length; i += CHUNK) {
    const part = lower.slice(i, i + CHUNK);
    out.push(
      ...(await db
        .select()
        .from(recipients)
        .where(and(eq(recipients.workspaceId, workspaceId), inArray(sql`lower(${recipients.email})`, part)))
        .all()),
    );
  }
  return out;
}

export interface RecipientWrite {
  id: string;
  workspaceId: string;
  email: string;
  /** undefined leaves the stored value; null clears it. */
  firstNameEnc?: string | null;
  lastNameEnc?: string | null;
  fieldsEnc?: string | null;
  metadata?: Record<string, unknown>;
}

/**
 * Inserts or updates profiles; `id` must be the existing row's id when the address is known
 * (the caller looked it up, since ciphertext is bound to the id). Statements go in batches.
 * An id that is another workspace's is left alone (setWhere), never overwritten.
 */
export async function upsertRecipients(db: Db, rows: RecipientWrite[], at: number): Promise<void> {
  const statements = rows.map((r) => {
    const set: Partial<typeof recipients.$inferInsert> = { updatedAt: at };
    if (r.firstNameEnc !== undefined) set.firstNameEnc = r.firstNameEnc;
    if (r.lastNameEnc !== undefined) set.lastNameEnc = r.lastNameEnc;
    if (r.fieldsEnc !== undefined) set.fieldsEnc = r.fieldsEnc;
    if (r.metadata !== undefined) set.metadata = r.metadata;
    return db
      .insert(recipients)
      .values({
        id: r.id,
        workspaceId: r.workspaceId,
        email: r.email,
        firstNameEnc: r.firstNameEnc ?? null,
        lastNameEnc: r.lastNameEnc ?? null,
        fieldsEnc: r.fieldsEnc ?? null,
        metadata: r.metadata ?? {},
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoUpdate({ target: recipients.id, set, setWhere: eq(recipients.workspaceId, r.workspaceId) });
  });
  for (let i = 0; i < statements.length; i += 100) {
    const part = statements.slice(i, i + 100);
    if (part.length > 0) await db.batch(part as [(typeof part)[0], ...typeof part]);
  }
}

export async function listRecipients(
  db: Db,
  workspaceId: string,
  opts: { status?: RecipientStatus; suppressedOnly?: boolean; before?: { createdAt: number; id: string }; limit: number },
): Promise<RecipientRow[]> {
  const conds = [eq(recipients.workspaceId, workspaceId)];
  if (opts.status) conds.push(eq(recipients.status, opts.status));
  if (opts.suppressedOnly) conds.push(ne(recipients.status, "active"));
  if (opts.before) {
    conds.push(or(lt(recipients.createdAt, opts.before.createdAt), and(eq(recipients.createdAt, opts.before.createdAt), lt(recipients.id, opts.before.id)))!);
  }
  return db.select().from(recipients).where(and(...conds)).orderBy(desc(recipients.createdAt), desc(recipients.id)).limit(opts.limit).all();
}

export async function setRecipientStatus(db: Db, workspaceId: string, id: string, status: RecipientStatus, at: number, eventId: string): Promise<RecipientRow | undefined> {
  const [row] = await db
    .update(recipients)
    .set({ status, updatedAt: at, ...(status === "active" ? { bounceCount: 0 } : {}) })
    .where(and(eq(recipients.workspaceId, workspaceId), eq(recipients.id, id)))
    .returning();
  if (row) {
    await db.insert(recipientEvents).values({
      id: eventId,
      workspaceId,
      recipientId: id,
      type: status === "active" ? "reactivated" : "suppressed",
      detail: { status, source: "api" },
      createdAt: at,
    });
  }
  return row;
}

/** Really deletes the profile, its events and its list memberships. */
export async function deleteRecipient(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const [, , deleted] = await db.batch([
    db.delete(recipientEvents).where(and(eq(recipientEvents.workspaceId, workspaceId), eq(recipientEvents.recipientId, id))),
    db.delete(recipientListMembers).where(and(eq(recipientListMembers.workspaceId, workspaceId), eq(recipientListMembers.recipientId, id))),
    db.delete(recipients).where(and(eq(recipients.workspaceId, workspaceId), eq(recipients.id, id))).returning({ id: recipients.id }),
  ]);
  return deleted.length > 0;
}

/** A delivery outcome as a recipient event: the message recipient it is about, its address and what happened. */
export interface DeliveryEvent {
  messageRecipientId: string;
  email: string;
  /** `delivery.<status>` */
  type: string;
  detail: Record<string, unknown>;
}

/**
 * One recipient_events row per delivery outcome, linked to the workspace's recipient record
 * (found by address in the same statement, so no extra round trip per recipient). Returned as
 * statements for the delivery record's own batch (db/messages/delivery.ts recordDelivery):
 * written with the outcome, atomically.
 */
export function deliveryEventInserts(d1: D1Database, workspaceId: string, messageId: string, at: number, events: DeliveryEvent[]): D1PreparedStatement[] {
  // Plain SQL (db/raw-rows.ts): this runs for every delivered recipient. 9 parameters a row:
  // ten rows stay under D1's 100 bound parameters per statement.
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < events.length; i += 10) {
    const chunk = events.slice(i, i + 10);
    out.push(
      d1
        .prepare(
          `INSERT INTO "recipient_events" ("id", "workspace_id", "recipient_id", "message_recipient_id", "message_id", "type", "detail", "created_at") VALUES ${chunk
            .map(() => `(?, ?, (SELECT "id" FROM "recipients" WHERE "workspace_id" = ? AND "email" = ?), ?, ?, ?, ?, ?)`)
            .join(", ")}`,
        )
        .bind(...chunk.flatMap((e) => [newId("evt"), workspaceId, workspaceId, e.email, e.messageRecipientId, messageId, e.type, JSON.stringify(e.detail), at])),
    );
  }
  return out;
}
