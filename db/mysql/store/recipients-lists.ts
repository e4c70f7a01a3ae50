// Recipient lists and their members on MySQL (the recipients group, db/store/recipients.ts):
// db/recipient-lists.ts's meaning. D1 passes addresses and ids as one JSON parameter each
// (json_each) to stay under its 100 bound parameters; mysql2 expands an array after `IN (?)`
// into a list on the client, so the same statements are plain IN lists here, chunked only to
// keep each statement small. `ON CONFLICT DO NOTHING` becomes `ON DUPLICATE KEY UPDATE` of a
// column to itself: a row already there is kept, while other errors (unlike INSERT IGNORE,
// which turns them into warnings and truncates values) still fail the statement.
import { and, asc, count, desc, eq, gt, inArray, lt, or } from "drizzle-orm";
import { chunks } from "../../fast-insert";
import type { MemberLookup, RecipientListRow, RecipientStore } from "../../store/recipients";
import { recipientListMembers, recipientLists, recipients } from "../schema";
import { isDuplicateEntry, type Orm, type Runner, type Sql } from "./sql";

type ListOps = Pick<
  RecipientStore,
  "createList" | "list" | "listLists" | "memberCounts" | "renameList" | "deleteList" | "listMembers" | "lookupMembers" | "addMembers" | "removeMember"
>;

/** Addresses or ids per statement. */
const CHUNK = 1000;

const listById = async (orm: Orm, workspaceId: string, id: string): Promise<RecipientListRow | undefined> => {
  const [row] = await orm
    .select()
    .from(recipientLists)
    .where(and(eq(recipientLists.workspaceId, workspaceId), eq(recipientLists.id, id)))
    .limit(1);
  return row;
};

export function mysqlRecipientLists(db: Runner): ListOps {
  return {
    createList: async (ws, l) => {
      const list: RecipientListRow = { id: l.id, workspaceId: ws, name: l.name, createdAt: l.createdAt };
      try {
        // Every column is given: the row written is exactly `list` (no RETURNING on MySQL).
        await db.run((q) => q.orm.insert(recipientLists).values(list));
        return { status: "created", list };
      } catch (e) {
        if (isDuplicateEntry(e)) return { status: "duplicate" };
        throw e;
      }
    },
    list: (ws, id) => db.run((q) => listById(q.orm, ws, id)),
    listLists: (ws, f) =>
      db.lagging.run((q) => {
        const where = [eq(recipientLists.workspaceId, ws)];
        if (f.before) where.push(or(lt(recipientLists.createdAt, f.before.createdAt), and(eq(recipientLists.createdAt, f.before.createdAt), lt(recipientLists.id, f.before.id)))!);
        return q.orm.select().from(recipientLists).where(and(...where)).orderBy(desc(recipientLists.createdAt), desc(recipientLists.id)).limit(f.limit);
      }),
    memberCounts: async (ws, listIds) => {
      if (listIds.length === 0) return new Map();
      const rows = await db.lagging.run((q) =>
        q.orm
          .select({ listId: recipientListMembers.listId, n: count() })
          .from(recipientListMembers)
          .where(and(eq(recipientListMembers.workspaceId, ws), inArray(recipientListMembers.listId, listIds)))
          .groupBy(recipientListMembers.listId),
      );
      return new Map(rows.map((r) => [r.listId, Number(r.n)]));
    },
    renameList: async (ws, id, name) => {
      try {
        return await db.tx(async (q) => {
          const [result] = await q.orm
            .update(recipientLists)
            .set({ name })
            .where(and(eq(recipientLists.workspaceId, ws), eq(recipientLists.id, id)));
          // Matched rows (FOUND_ROWS): renaming to the same name still finds the list.
          if (result.affectedRows === 0) return undefined;
          return { status: "renamed" as const, list: (await listById(q.orm, ws, id))! };
        });
      } catch (e) {
        if (isDuplicateEntry(e)) return { status: "duplicate" };
        throw e;
      }
    },
    deleteList: (ws, id) =>
      db.tx(async (q) => {
        // Memberships explicitly, as on D1, rather than trusting the foreign key's cascade alone.
        await q.orm.delete(recipientListMembers).where(and(eq(recipientListMembers.workspaceId, ws), eq(recipientListMembers.listId, id)));
        const [result] = await q.orm.delete(recipientLists).where(and(eq(recipientLists.workspaceId, ws), eq(recipientLists.id, id)));
        return result.affectedRows > 0;
      }),
    listMembers: (ws, listId, f) =>
      db.lagging.run((q) => {
        const where = [eq(recipientListMembers.workspaceId, ws), eq(recipientListMembers.listId, listId)];
        if (f.after) where.push(gt(recipientListMembers.recipientId, f.after));
        return q.orm
          .select({ recipientId: recipientListMembers.recipientId, email: recipients.email, status: recipients.status, addedAt: recipientListMembers.createdAt })
          .from(recipientListMembers)
          .innerJoin(recipients, and(eq(recipients.id, recipientListMembers.recipientId), eq(recipients.workspaceId, ws)))
          .where(and(...where))
          .orderBy(asc(recipientListMembers.recipientId))
          .limit(f.limit);
      }),
    // One transaction: every answer from one snapshot, as D1's single batch.
    lookupMembers: (ws, listId, emails, ids) => db.tx((q) => lookupMembers(q, ws, listId, emails, ids)),
    addMembers: async (ws, listId, add, at) => {
      if (add.recipientIds.length === 0 && add.newRecipients.length === 0) return;
      await db.tx((q) => addMembers(q, ws, listId, add, at));
    },
    removeMember: (ws, listId, recipientId) =>
      db.run(async (q) => {
        const [result] = await q.orm
          .delete(recipientListMembers)
          .where(and(eq(recipientListMembers.workspaceId, ws), eq(recipientListMembers.listId, listId), eq(recipientListMembers.recipientId, recipientId)));
        return result.affectedRows > 0;
      }),
  };
}

async function lookupMembers(q: Sql, workspaceId: string, listId: string, emails: string[], ids: string[]): Promise<MemberLookup | null> {
  const [list] = await q.rows(`SELECT 1 AS \`ok\` FROM \`recipient_lists\` WHERE \`id\` = ? AND \`workspace_id\` = ?`, [listId, workspaceId]);
  if (!list) return null;
  const lower = emails.map((e) => e.toLowerCase());
  const byEmail = new Map<string, { id: string; email: string }>();
  const found = new Set<string>();
  const members = new Set<string>();
  for (const part of chunks(lower, CHUNK)) {
    const rows = await q.rows<{ id: string; email: string }>(`SELECT \`id\`, \`email\` FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`email_lower\` IN (?)`, [workspaceId, part]);
    for (const r of rows) if (!byEmail.has(r.email.toLowerCase())) byEmail.set(r.email.toLowerCase(), { id: r.id, email: r.email });
    const m = await q.rows<{ id: string }>(
      `SELECT m.\`recipient_id\` AS \`id\` FROM \`recipient_list_members\` m JOIN \`recipients\` r ON r.\`id\` = m.\`recipient_id\`
       WHERE m.\`list_id\` = ? AND m.\`workspace_id\` = ? AND r.\`workspace_id\` = ? AND r.\`email_lower\` IN (?)`,
      [listId, workspaceId, workspaceId, part],
    );
    for (const r of m) members.add(r.id);
  }
  for (const part of chunks(ids, CHUNK)) {
    for (const r of await q.rows<{ id: string }>(`SELECT \`id\` FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`id\` IN (?)`, [workspaceId, part])) found.add(r.id);
    const m = await q.rows<{ id: string }>(
      `SELECT \`recipient_id\` AS \`id\` FROM \`recipient_list_members\` WHERE \`list_id\` = ? AND \`workspace_id\` = ? AND \`recipient_id\` IN (?)`,
      [listId, workspaceId, part],
    );
    for (const r of m) members.add(r.id);
  }
  return { byEmail, ids: found, members };
}

/** Only while the list is the workspace's: a list deleted meanwhile gets no members. */
const LIST_GUARD = `EXISTS (SELECT 1 FROM \`recipient_lists\` WHERE \`id\` = ? AND \`workspace_id\` = ?)`;
const KEEP_MEMBER = `ON DUPLICATE KEY UPDATE \`recipient_list_members\`.\`created_at\` = \`recipient_list_members\`.\`created_at\``;

async function addMembers(q: Sql, workspaceId: string, listId: string, add: { recipientIds: string[]; newRecipients: { id: string; email: string }[] }, at: number): Promise<void> {
  // New records first (a record with the address already there is kept: it is joined below by exact address).
  for (const part of chunks(add.newRecipients, CHUNK)) {
    await q.exec(
      `INSERT INTO \`recipients\` (\`id\`, \`workspace_id\`, \`email\`, \`created_at\`, \`updated_at\`) VALUES ${part.map(() => "(?, ?, ?, ?, ?)").join(", ")}
       ON DUPLICATE KEY UPDATE \`recipients\`.\`id\` = \`recipients\`.\`id\``,
      part.flatMap((r) => [r.id, workspaceId, r.email, at, at]),
    );
  }
  for (const part of chunks(add.recipientIds, CHUNK)) {
    await q.exec(
      `INSERT INTO \`recipient_list_members\` (\`list_id\`, \`recipient_id\`, \`workspace_id\`, \`created_at\`)
       SELECT ?, r.\`id\`, ?, ? FROM \`recipients\` r WHERE r.\`workspace_id\` = ? AND r.\`id\` IN (?) AND ${LIST_GUARD} ${KEEP_MEMBER}`,
      [listId, workspaceId, at, workspaceId, part, listId, workspaceId],
    );
  }
  for (const part of chunks(add.newRecipients.map((r) => r.email), CHUNK)) {
    await q.exec(
      `INSERT INTO \`recipient_list_members\` (\`list_id\`, \`recipient_id\`, \`workspace_id\`, \`created_at\`)
       SELECT ?, r.\`id\`, ?, ? FROM \`recipients\` r WHERE r.\`workspace_id\` = ? AND r.\`email\` IN (?) AND ${LIST_GUARD} ${KEEP_MEMBER}`,
      [listId, workspaceId, at, workspaceId, part, listId, workspaceId],
    );
  }
}
