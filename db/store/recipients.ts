// The store's recipients group (db/store/store.ts): recipient records (profiles and their
// suppression status), recipient lists and their members, and erasure of a data subject.
// Operations are in core terms: no query builder, statement or driver type crosses them. Every
// operation takes the workspace first and touches only that workspace's rows: another
// workspace's id is "not found". Names and custom fields are ciphertext here (core/crypto.ts
// encrypts them before the store, bound to workspace and recipient id), opaque to the store.
import type { RecipientRow, RecipientStatus, RecipientWrite } from "../recipients";
import type { MemberLookup, MemberRow, RecipientListRow } from "../recipient-lists";
import type { ErasureResult } from "../erasure";

export type { RecipientRow, RecipientStatus, RecipientListRow, MemberRow, MemberLookup, ErasureResult };
// Pure helpers over a record (decryption of its ciphertext, its AAD): no SQL, re-exported so
// callers reach everything about recipients through the store's module.
export { openRecipient, recipientAad, type RecipientData } from "../recipients";

/** A profile to write: the workspace is the operation's. `id` is the existing record's when the address is known. */
export type RecipientProfileWrite = Omit<RecipientWrite, "workspaceId">;

/** Newest first; `before` is the keyset cursor (created_at, id) of the last row of the previous page. */
export interface RecipientListFilter {
  status?: RecipientStatus;
  /** Only suppressed records (any status but `active`). */
  suppressedOnly?: boolean;
  before?: { createdAt: number; id: string };
  limit: number;
}

export type CreateListResult = { status: "created"; list: RecipientListRow } | { status: "duplicate" };
export type RenameListResult = { status: "renamed"; list: RecipientListRow } | { status: "duplicate" };

export interface RecipientStore {
  // Records.
  recipient(workspaceId: string, id: string): Promise<RecipientRow | undefined>;
  /** Records for these addresses, compared case-insensitively (template variables, strict mode, the import). */
  recipientsByEmails(workspaceId: string, emails: string[]): Promise<RecipientRow[]>;
  /**
   * Inserts new records and updates known ones (by id: `undefined` fields keep the stored value,
   * `null` clears it). A new record whose address another record of the workspace already has
   * is refused (an error, as a unique violation: the caller looked the addresses up first).
   */
  upsertRecipients(workspaceId: string, rows: RecipientProfileWrite[], at: number): Promise<void>;
  listRecipients(workspaceId: string, f: RecipientListFilter): Promise<RecipientRow[]>;
  /**
   * Sets the suppression status (`active` also resets the bounce count) and records a
   * `suppressed`/`reactivated` recipient event with id `eventId`, together. The record as
   * written, or undefined when it is not the workspace's.
   */
  setRecipientStatus(workspaceId: string, id: string, status: RecipientStatus, at: number, eventId: string): Promise<RecipientRow | undefined>;
  /** Deletes the record, its events and its list memberships, together; false when it is not the workspace's. */
  deleteRecipient(workspaceId: string, id: string): Promise<boolean>;
  /**
   * A data subject's erasure (db/erasure.ts): in finished messages to `email` the address becomes
   * `replacement` (recipients, To list, attempts), their events and stored first answers go, and
   * their bodies are purged (`deleteObjects` deletes the R2 objects first, so a failure there is
   * retried); then the profiles with the address and their events go. Each of those writes is all
   * or nothing. Messages still being delivered are left alone and counted as `pending`.
   */
  eraseRecipient(workspaceId: string, email: string, replacement: string, at: number, deleteObjects: (keys: string[]) => Promise<void>): Promise<ErasureResult>;

  // Lists.
  /** A new list; `duplicate` when the workspace has a list of that name. */
  createList(workspaceId: string, list: { id: string; name: string; createdAt: number }): Promise<CreateListResult>;
  list(workspaceId: string, id: string): Promise<RecipientListRow | undefined>;
  /** Newest first, keyset-paged like listRecipients. */
  listLists(workspaceId: string, f: { before?: { createdAt: number; id: string }; limit: number }): Promise<RecipientListRow[]>;
  /** Members per list (lists without members are absent). */
  memberCounts(workspaceId: string, listIds: string[]): Promise<Map<string, number>>;
  /** undefined when the list is not the workspace's; `duplicate` when another list has the name. */
  renameList(workspaceId: string, id: string, name: string): Promise<RenameListResult | undefined>;
  /** Deletes the list and its memberships (not the recipients), together; false when it is not the workspace's. */
  deleteList(workspaceId: string, id: string): Promise<boolean>;
  /** A page of members ordered by recipient id, after `after`. */
  listMembers(workspaceId: string, listId: string, f: { after?: string; limit: number }): Promise<MemberRow[]>;
  /** What adding these members needs to know (existing records by address and id, who is a member already); null when the list is not the workspace's. */
  lookupMembers(workspaceId: string, listId: string, emails: string[], ids: string[]): Promise<MemberLookup | null>;
  /**
   * Creates the records in `newRecipients` that do not exist yet (a record created meanwhile
   * with the same exact address is joined instead) and adds them and `recipientIds` (the
   * workspace's only) to the list, all or nothing; members already on it stay as they are.
   * Nothing is added when the list is gone.
   */
  addMembers(workspaceId: string, listId: string, add: { recipientIds: string[]; newRecipients: { id: string; email: string }[] }, at: number): Promise<void>;
  /** false when the recipient was not a member of the workspace's list. */
  removeMember(workspaceId: string, listId: string, recipientId: string): Promise<boolean>;
}
