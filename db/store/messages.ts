// The store's messages group (db/store/store.ts): the API's reads of messages (one message with
// its recipients, attempts and attachments; the filtered, paged list) and the sender's cancel.
// Every operation takes the workspace first and every statement behind it carries it: another
// workspace's message id is "not found". Operations are in core terms: no query builder,
// statement or driver type crosses them.
import type { attachments } from "../schema";
import type { ListFilter } from "../messages/read";
import type { DeliveryAttemptRow, MessageRecipientRow, MessageRow } from "../messages/types";
import type { MessageStatus } from "../../core/status";

export type { ListFilter };
export type AttachmentRow = typeof attachments.$inferSelect;

export interface MessageDetail {
  message: MessageRow;
  recipients: MessageRecipientRow[];
  /** By start time. */
  attempts: DeliveryAttemptRow[];
  attachments: AttachmentRow[];
}

export interface MessageStore {
  /** The message with its recipients, attempts and attachments (one round trip on D1); undefined when the workspace has no such message. */
  message(workspaceId: string, id: string): Promise<MessageDetail | undefined>;
  /** Newest first (queued_at, then id, descending), filtered by status, a tag, a queued_at range and a keyset cursor. */
  list(workspaceId: string, filter: ListFilter): Promise<MessageRow[]>;
  /**
   * Cancels every recipient not yet handed to a provider (queued, deferred) and re-derives the
   * message's status from its recipients: that status, or null when nothing was cancellable.
   */
  cancel(workspaceId: string, id: string, at: number): Promise<MessageStatus | null>;
}
