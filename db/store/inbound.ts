// The store's inbound group (db/store/store.ts): the deliveries an after-the-fact report is about
// (found by VERP id, Message-ID header, the provider's message id or the message) and the outcome
// it records (bounces, complaints, provider events). db/inbound.ts is the D1 implementation and
// says what each operation means.
//
// Look-ups by VERP id (a message recipient's or a message's id: unguessable, the bounce address
// carries it) and by Message-ID header (a DSN names only that) are cross-tenant and say so; the
// rest take the workspace first.
import type { recipientEvents, recipients } from "../schema";
import type { DeliveryRef, OutcomeInput, OutcomeResult, Suppression } from "../inbound";

export type { DeliveryRef, OutcomeInput, OutcomeResult, Suppression };
export type RecipientRecordRow = typeof recipients.$inferSelect;
export type RecipientEventRow = typeof recipientEvents.$inferSelect;

export interface InboundStore {
  /** By VERP id (a message recipient's id). Cross-tenant: the id is unguessable. */
  findDeliveryById(messageRecipientId: string): Promise<DeliveryRef | undefined>;
  /**
   * By the original Message-ID and the failed address (bounces that lost the VERP address).
   * Cross-tenant: when several workspaces share a Message-ID only an exact recipient match in
   * exactly one of them counts; without an address, only a message with a single recipient.
   */
  findDeliveryByMessageIdHeader(messageIdHeader: string, email: string | null): Promise<DeliveryRef | undefined>;
  /** By the provider's message id and the address (case-insensitive), within the workspace (provider webhooks). */
  findDeliveryByProviderMessageId(workspaceId: string, providerMessageId: string, email: string): Promise<DeliveryRef | undefined>;
  /** By the message and the address (case-insensitive), within the workspace. */
  findDeliveryByMessage(workspaceId: string, messageId: string, email: string): Promise<DeliveryRef | undefined>;
  /** Every recipient of a message by its id alone (VERP `msg_…`). Cross-tenant: the id is unguessable. */
  findDeliveriesOfMessage(messageId: string): Promise<DeliveryRef[]>;
  /**
   * Records one report, all or nothing: the workspace's recipient record (created on first
   * report; bounce count, suppression), the message recipient (status if still movable, error,
   * bounce), the campaign counters (a transition counted once however often it is reported),
   * the recipient event; then the message's status derived again when the recipient moved.
   * Scoped by `o.ref.workspaceId`.
   */
  applyOutcome(o: OutcomeInput): Promise<OutcomeResult>;
  /** The workspace's record of an address (the suppression list's row), by address case-insensitively. */
  getRecipientRecord(workspaceId: string, email: string): Promise<RecipientRecordRow | undefined>;
  /** A message recipient's events, oldest first. */
  listRecipientEvents(workspaceId: string, messageRecipientId: string): Promise<RecipientEventRow[]>;
  /** The type of the workspace's provider (null: none given, or not the workspace's). */
  providerTypeOf(workspaceId: string, providerId: string | null): Promise<string | null>;
}
