// The recipients group (db/store/recipients.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/recipients.ts over db/recipients.ts, db/recipient-lists.ts, db/erasure.ts). The
// records are here; lists and their members in recipients-lists.ts, erasure in
// recipients-erasure.ts. Where D1 writes in one batch, this writes in one transaction.
//
// Addresses compared case-insensitively use the stored generated column email_lower
// (db/mysql/schema/recipients.ts: MariaDB cannot index lower(email) itself).
import { and, desc, eq, inArray, lt, ne, or, type SQL } from "drizzle-orm";
import { byShape, chunks } from "../../fast-insert";
import type { RecipientProfileWrite, RecipientRow, RecipientStore } from "../../store/recipients";
import { recipientEvents, recipientListMembers, recipients } from "../schema";
import { mysqlRecipientErasure } from "./recipients-erasure";
import { mysqlRecipientLists } from "./recipients-lists";
import { insertRows, type Orm, type Runner, type Sql } from "./sql";

/** Rows per statement: MySQL has no bound-parameter cap like D1's; this only keeps a statement small. */
const ROWS_PER_STATEMENT = 500;

/** The D1 row shape: the MySQL table has email_lower besides (generated), which is not part of a record. */
export function recipientRow(r: typeof recipients.$inferSelect): RecipientRow {
  const { emailLower: _, ...row } = r;
  return row;
}

export const recipientById = async (orm: Orm, workspaceId: string, id: string): Promise<RecipientRow | undefined> => {
  const [row] = await orm
    .select()
    .from(recipients)
    .where(and(eq(recipients.workspaceId, workspaceId), eq(recipients.id, id)))
    .limit(1);
  return row && recipientRow(row);
};

export function mysqlRecipient(db: Runner): RecipientStore {
  return {
    recipient: (ws, id) => db.run((q) => recipientById(q.orm, ws, id)),
    recipientsByEmails: (ws, emails) =>
      db.run(async (q) => {
        const lower = [...new Set(emails.map((e) => e.toLowerCase()))];
        const out: RecipientRow[] = [];
        for (const part of chunks(lower, ROWS_PER_STATEMENT)) {
          const rows = await q.orm
            .select()
            .from(recipients)
            .where(and(eq(recipients.workspaceId, ws), inArray(recipients.emailLower, part)));
          out.push(...rows.map(recipientRow));
        }
        return out;
      }),
    upsertRecipients: async (ws, rows, at) => {
      if (rows.length > 0) await db.tx((q) => upsert(q, ws, rows, at));
    },
    listRecipients: (ws, f) =>
      db.lagging.run(async (q) => {
        const where: SQL[] = [eq(recipients.workspaceId, ws)];
        if (f.status) where.push(eq(recipients.status, f.status));
        if (f.suppressedOnly) where.push(ne(recipients.status, "active"));
        if (f.before) where.push(or(lt(recipients.createdAt, f.before.createdAt), and(eq(recipients.createdAt, f.before.createdAt), lt(recipients.id, f.before.id)))!);
        const rows = await q.orm.select().from(recipients).where(and(...where)).orderBy(desc(recipients.createdAt), desc(recipients.id)).limit(f.limit);
        return rows.map(recipientRow);
      }),
    setRecipientStatus: (ws, id, status, at, eventId) =>
      db.tx(async (q) => {
        const [result] = await q.orm
          .update(recipients)
          .set({ status, updatedAt: at, ...(status === "active" ? { bounceCount: 0 } : {}) })
          .where(and(eq(recipients.workspaceId, ws), eq(recipients.id, id)));
        if (result.affectedRows === 0) return undefined;
        await q.orm.insert(recipientEvents).values({
          id: eventId,
          workspaceId: ws,
          recipientId: id,
          type: status === "active" ? "reactivated" : "suppressed",
          detail: { status, source: "api" },
          createdAt: at,
        });
        return recipientById(q.orm, ws, id);
      }),
    deleteRecipient: (ws, id) =>
      db.tx(async (q) => {
        await q.orm.delete(recipientEvents).where(and(eq(recipientEvents.workspaceId, ws), eq(recipientEvents.recipientId, id)));
        await q.orm.delete(recipientListMembers).where(and(eq(recipientListMembers.workspaceId, ws), eq(recipientListMembers.recipientId, id)));
        const [result] = await q.orm.delete(recipients).where(and(eq(recipients.workspaceId, ws), eq(recipients.id, id)));
        return result.affectedRows > 0;
      }),
    ...mysqlRecipientErasure(db),
    ...mysqlRecipientLists(db),
  };
}

/** The columns a write may set besides the address, by their keys in the table. */
const PROFILE_FIELDS = ["firstNameEnc", "lastNameEnc", "fieldsEnc", "metadata"] as const;

/**
 * db/recipients.ts upsertRecipients. Which ids exist is read first (locked), so each row is
 * either a plain INSERT of a new record (an address another record has fails on the unique key,
 * as on D1) or an update of a known one. The updates of one shape (the same fields given) are
 * one multi-row INSERT … ON DUPLICATE KEY UPDATE on the primary key; the assignments are guarded
 * by `id = VALUES(id)`, so a row never lands on a record with another id (ciphertext is bound to
 * its id) whatever key it met.
 */
async function upsert(q: Sql, workspaceId: string, rows: RecipientProfileWrite[], at: number): Promise<void> {
  const known = new Set<string>();
  for (const part of chunks(rows.map((r) => r.id), ROWS_PER_STATEMENT)) {
    const found = await q.rows<{ id: string }>(`SELECT \`id\` FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`id\` IN (?) FOR UPDATE`, [workspaceId, part]);
    for (const r of found) known.add(r.id);
  }
  const fresh = rows
    .filter((r) => !known.has(r.id))
    .map((r) => ({
      id: r.id,
      workspaceId,
      email: r.email,
      firstNameEnc: r.firstNameEnc ?? null,
      lastNameEnc: r.lastNameEnc ?? null,
      fieldsEnc: r.fieldsEnc ?? null,
      metadata: r.metadata ?? {},
      createdAt: at,
      updatedAt: at,
    }));
  for (const part of chunks(fresh, ROWS_PER_STATEMENT)) {
    const ins = insertRows(recipients, part);
    await q.exec(ins.sql, ins.values);
  }
  const updates = rows
    .filter((r) => known.has(r.id))
    .map((r) => {
      const row: Record<string, unknown> = { id: r.id, workspaceId, email: r.email, updatedAt: at };
      for (const k of PROFILE_FIELDS) if (r[k] !== undefined) row[k] = r[k];
      return row;
    });
  for (const shape of byShape(updates)) {
    const set = [...PROFILE_FIELDS.filter((k) => shape[0]![k] !== undefined).map((k) => recipients[k].name), recipients.updatedAt.name];
    const assign = set.map((c) => `\`${c}\` = IF(\`id\` = VALUES(\`id\`), VALUES(\`${c}\`), \`${c}\`)`).join(", ");
    for (const part of chunks(shape, ROWS_PER_STATEMENT)) {
      const ins = insertRows(recipients, part as Parameters<typeof insertRows<typeof recipients>>[1]);
      await q.exec(`${ins.sql} ON DUPLICATE KEY UPDATE ${assign}`, ins.values);
    }
  }
}
