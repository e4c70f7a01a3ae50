// Recipient lists and their members. Every query is scoped by the workspace. Adding up to 10,000
// members is two D1 round trips whatever the size: addresses and ids travel as JSON parameters
// (json_each) instead of one bound value each, which D1 caps at 100 per statement.
import { and, asc, desc, eq, gt, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { recipientListMembers, recipientLists, recipients } from "./schema";

export type RecipientListRow = typeof recipientLists.$inferSelect;

export async function insertList(db: Db, row: typeof recipientLists.$inferInsert): Promise<RecipientListRow> {
  const [created] = await db.insert(recipientLists).values(row).returning();
  return created!;
}

export const getList = (db: Db, workspaceId: string, id: string): Promise<RecipientListRow | undefined> =>
  db.select().from(recipientLists).where(and(eq(recipientLists.workspaceId, workspaceId), eq(recipientLists.id, id))).get();

export function listLists(db: Db, workspaceId: string, f: { before?: { createdAt: number; id: string }; limit: number }): Promise<RecipientListRow[]> {
  const where = [eq(recipientLists.workspaceId, workspaceId)];
  if (f.before) where.push(or(lt(recipientLists.createdAt, f.before.createdAt), and(eq(recipientLists.createdAt, f.before.createdAt), lt(recipientLists.id, f.before.id)))!);
  return db.select().from(recipientLists).where(and(...where)).orderBy(desc(recipientLists.createdAt), desc(recipientLists.id)).limit(f.limit).all();
}

/** Members per list, for a page of lists (the primary key starts with list_id, so this is an index count). */
export async function memberCounts(db: Db, workspaceId: string, listIds: string[]): Promise<Map<string, number>> {
  if (listIds.length === 0) return new Map();
  const rows = await db
    .select({ listId: recipientListMembers.listId, n: sql<number>`count(*)` })
    .from(recipientListMembers)
    .where(and(eq(recipientListMembers.workspaceId, workspaceId), sql`${recipientListMembers.listId} in (select value from json_each(${JSON.stringify(listIds)}))`))
    .groupBy(recipientListMembers.listId)
    .all();
  return new Map(rows.map((r) => [r.listId, r.n]));
}

export async function renameList(db: Db, workspaceId: string, id: string, name: string): Promise<RecipientListRow | undefined> {
  const [row] = await db
    .update(recipientLists)
    .set({ name })
    .where(and(eq(recipientLists.workspaceId, workspaceId), eq(recipientLists.id, id)))
    .returning();
  return row;
}

/** Deletes the list and its memberships (not the recipients). */
export async function deleteList(db: Db, workspaceId: string, id: string): Promise<boolean> {
  // Memberships explicitly, in the same transaction, rather than trusting the FK cascade alone.
  const [, deleted] = await db.batch([
    db.delete(recipientListMembers).where(and(eq(recipientListMembers.workspaceId, workspaceId), eq(recipientListMembers.listId, id))),
    db.delete(recipientLists).where(and(eq(recipientLists.workspaceId, workspaceId), eq(recipientLists.id, id))).returning({ id: recipientLists.id }),
  ]);
  return deleted.length > 0;
}

export interface MemberRow {
  recipientId: string;
  email: string;
  status: string;
  addedAt: number;
}

/** A page of members ordered by recipient id (the primary key's order, so no sort per page). */
export function listMembers(db: Db, workspaceId: string, listId: string, f: { after?: string; limit: number }): Promise<MemberRow[]> {
  const where = [eq(recipientListMembers.workspaceId, workspaceId), eq(recipientListMembers.listId, listId)];
  if (f.after) where.push(gt(recipientListMembers.recipientId, f.after));
  return db
    .select({ recipientId: recipientListMembers.recipientId, email: recipients.email, status: recipients.status, addedAt: recipientListMembers.createdAt })
    .from(recipientListMembers)
    .innerJoin(recipients, and(eq(recipients.id, recipientListMembers.recipientId), eq(recipients.workspaceId, workspaceId)))
    .where(and(...where))
    .orderBy(asc(recipientListMembers.recipientId))
    .limit(f.limit)
    .all();
}

export async function removeMember(db: Db, workspaceId: string, listId: string, recipientId: string): Promise<boolean> {
  const rows = await db
    .delete(recipientListMembers)
    .where(and(eq(recipientListMembers.workspaceId, workspaceId), eq(recipientListMembers.listId, listId), eq(recipientListMembers.recipientId, recipientId)))
    .returning({ id: recipientListMembers.recipientId });
  return rows.length > 0;
}

// Addresses or ids per JSON parameter: keeps each statement's parameter well under D1's limits.
const CHUNK = 1000;
const chunks = <T>(items: T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
};

export interface MemberLookup {
  /** Existing recipients by lower-cased address. */
  byEmail: Map<string, { id: string; email: string }>;
  /** Which of the asked ids are recipients of this workspace. */
  ids: Set<string>;
  /** Recipient ids (among those asked for, by id or address) already on the list. */
  members: Set<string>;
}

/** What adding these members needs to know, in one round trip. Null when the list is not this workspace's. */
export async function lookupMembers(db: Db, workspaceId: string, listId: string, emails: string[], ids: string[]): Promise<MemberLookup | null> {
  const d1 = db.$client;
  const listStmt = d1.prepare("select 1 as ok from recipient_lists where id = ?1 and workspace_id = ?2").bind(listId, workspaceId);
  const emailStmts = chunks(emails.map((e) => e.toLowerCase())).map((part) =>
    d1
      .prepare("select id, email from recipients where workspace_id = ?1 and lower(email) in (select value from json_each(?2))")
      .bind(workspaceId, JSON.stringify(part)),
  );
  const idStmts = chunks(ids).map((part) =>
    d1.prepare("select id from recipients where workspace_id = ?1 and id in (select value from json_each(?2))").bind(workspaceId, JSON.stringify(part)),
  );
  const memberStmts = [
    ...chunks(ids).map((part) =>
      d1
        .prepare("select recipient_id as id from recipient_list_members where list_id = ?1 and workspace_id = ?2 and recipient_id in (select value from json_each(?3))")
        .bind(listId, workspaceId, JSON.stringify(part)),
    ),
    ...chunks(emails.map((e) => e.toLowerCase())).map((part) =>
      d1
        .prepare(
          "select m.recipient_id as id from recipient_list_members m join recipients r on r.id = m.recipient_id where m.list_id = ?1 and m.workspace_id = ?2 and r.workspace_id = ?2 and lower(r.email) in (select value from json_each(?3))",
        )
        .bind(listId, workspaceId, JSON.stringify(part)),
    ),
  ];
  const results = await d1.batch([listStmt, ...emailStmts, ...idStmts, ...memberStmts]);
  if (results[0]!.results.length === 0) return null;
  let i = 1;
  const take = (n: number) => results.slice(i, (i += n)).flatMap((r) => r.results as Record<string, string>[]);
  const byEmail = new Map<string, { id: string; email: string }>();
  for (const r of take(emailStmts.length)) if (!byEmail.has(r.email!.toLowerCase())) byEmail.set(r.email!.toLowerCase(), { id: r.id!, email: r.email! });
  const found = new Set(take(idStmts.length).map((r) => r.id!));
  const members = new Set(take(memberStmts.length).map((r) => r.id!));
  return { byEmail, ids: found, members };
}

/**
 * Creates the recipient records that do not exist yet and adds every given recipient to the list,
 * in one transaction. New records are matched back by exact address, so a record created
 * concurrently by a send is joined rather than duplicated. Nothing is added if the list is gone.
 */
export async function addMembers(
  db: Db,
  workspaceId: string,
  listId: string,
  add: { recipientIds: string[]; newRecipients: { id: string; email: string }[] },
  at: number,
): Promise<void> {
  const d1 = db.$client;
  const listGuard = "exists (select 1 from recipient_lists where id = ?1 and workspace_id = ?2)";
  const stmts = [
    ...chunks(add.newRecipients).map((part) =>
      d1
        .prepare(
          "insert into recipients (id, workspace_id, email, created_at, updated_at) select json_extract(value, '$.id'), ?1, json_extract(value, '$.email'), ?2, ?2 from json_each(?3) where true on conflict do nothing",
        )
        .bind(workspaceId, at, JSON.stringify(part)),
    ),
    ...chunks(add.recipientIds).map((part) =>
      d1
        .prepare(
          `insert into recipient_list_members (list_id, recipient_id, workspace_id, created_at) select ?1, r.id, ?2, ?3 from recipients r where r.workspace_id = ?2 and r.id in (select value from json_each(?4)) and ${listGuard} on conflict do nothing`,
        )
        .bind(listId, workspaceId, at, JSON.stringify(part)),
    ),
    ...chunks(add.newRecipients.map((r) => r.email)).map((part) =>
      d1
        .prepare(
          `insert into recipient_list_members (list_id, recipient_id, workspace_id, created_at) select ?1, r.id, ?2, ?3 from json_each(?4) j join recipients r on r.workspace_id = ?2 and r.email = j.value where ${listGuard} on conflict do nothing`,
        )
        .bind(listId, workspaceId, at, JSON.stringify(part)),
    ),
  ];
  if (stmts.length > 0) await d1.batch(stmts);
}
