// The recipients group (db/store/recipients.ts) on D1: the db/recipients.ts, db/recipient-lists.ts
// and db/erasure.ts functions, which are its implementation. A unique violation (a list name
// taken) becomes the `duplicate` outcome here, so callers never inspect a driver error.
import type { Db } from "../../client";
import { isUniqueViolation } from "../../errors";
import { eraseRecipient } from "../../erasure";
import { addMembers, deleteList, getList, insertList, listLists, listMembers, lookupMembers, memberCounts, removeMember, renameList } from "../../recipient-lists";
import { deleteRecipient, getRecipient, listRecipients, recipientsByEmails, setRecipientStatus, upsertRecipients } from "../../recipients";
import type { RecipientStore } from "../recipients";

/** `fn`'s value, or `duplicate` when it failed on a unique constraint. */
async function orDuplicate<T>(fn: () => Promise<T>): Promise<T | { status: "duplicate" }> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) return { status: "duplicate" };
    throw e;
  }
}

export function d1Recipient(db: Db): RecipientStore {
  return {
    recipient: (ws, id) => getRecipient(db, ws, id),
    recipientsByEmails: (ws, emails) => recipientsByEmails(db, ws, emails),
    upsertRecipients: (ws, rows, at) => upsertRecipients(db, rows.map((r) => ({ ...r, workspaceId: ws })), at),
    listRecipients: (ws, f) => listRecipients(db, ws, f),
    setRecipientStatus: (ws, id, status, at, eventId) => setRecipientStatus(db, ws, id, status, at, eventId),
    deleteRecipient: (ws, id) => deleteRecipient(db, ws, id),
    eraseRecipient: (ws, email, replacement, at, deleteObjects) => eraseRecipient(db, ws, email, replacement, at, deleteObjects),

    createList: (ws, l) => orDuplicate(async () => ({ status: "created" as const, list: await insertList(db, { ...l, workspaceId: ws }) })),
    list: (ws, id) => getList(db, ws, id),
    listLists: (ws, f) => listLists(db, ws, f),
    memberCounts: (ws, ids) => memberCounts(db, ws, ids),
    renameList: (ws, id, name) =>
      orDuplicate(async () => {
        const list = await renameList(db, ws, id, name);
        return list ? { status: "renamed" as const, list } : undefined;
      }),
    deleteList: (ws, id) => deleteList(db, ws, id),
    listMembers: (ws, listId, f) => listMembers(db, ws, listId, f),
    lookupMembers: (ws, listId, emails, ids) => lookupMembers(db, ws, listId, emails, ids),
    addMembers: (ws, listId, add, at) => addMembers(db, ws, listId, add, at),
    removeMember: (ws, listId, recipientId) => removeMember(db, ws, listId, recipientId),
  };
}
