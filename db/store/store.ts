// The store: what the relay reads and writes, as one interface with one adapter per backend
// (db/store/d1.ts with db/store/d1/*.ts, db/mysql/store/*.ts), chosen by STORE (db/store/open.ts).
// docs/storage.md is the design. The delivery path (claim/record), the outbox and the dead-letter
// path are declared here; every other group has a file of its own beside this one.
//
// Records are the D1 schema's row shapes (the MySQL schema is checked to have the same columns:
// db/mysql/schema-parity.test.ts), plain objects to callers: no query builder, statement or
// driver type crosses this interface.
import type { ClaimLease, DeliveryRecord, WorkspaceDeliveryFacts } from "../messages/delivery";
import type { MessageRecipientRow, MessageRow, NewAttempt } from "../messages/types";
import type { MessageStatus, RecipientStatus } from "../../core/status";
import type { AcceptStore } from "./accept";
import type { MessageStore } from "./messages";
import type { TenantStore } from "./tenants";
import type { AuditStore } from "./audit";
import type { RecipientStore } from "./recipients";
import type { CampaignStore } from "./campaigns";
import type { ProviderStore } from "./providers";
import type { HealthStore } from "./health";
import type { LlmStore } from "./llm";
import type { WebhookStore } from "./webhooks";
import type { InboundStore } from "./inbound";
import type { MetricsStore } from "./metrics";
import type { RetentionStore } from "./retention";

export type { AcceptStore, MessageStore, TenantStore, AuditStore, RecipientStore, CampaignStore, ProviderStore, HealthStore, LlmStore, WebhookStore, InboundStore, MetricsStore, RetentionStore };
export type { ClaimLease, DeliveryRecord, WorkspaceDeliveryFacts, MessageRecipientRow, MessageRow, NewAttempt };

/** A message with its recipients as read before the claim, and the recipients the claim took. */
export interface LoadedClaim {
  message: MessageRow;
  recipients: MessageRecipientRow[];
  claimed: MessageRecipientRow[];
}

/** Claim and record: every statement carries the workspace, so another tenant's id is "not found". */
export interface DeliveryStore {
  /** Settings (unparsed), enabled providers in priority order, and their quotas. */
  loadWorkspace(workspaceId: string): Promise<WorkspaceDeliveryFacts>;
  /**
   * The message and the claim on its pending recipients, atomically: never the same recipient to
   * two consumers; `sending` only when its claim lapsed; nothing when not_before > dueBy.
   */
  loadAndClaim(workspaceId: string, messageId: string, at: number, lease: ClaimLease | number, dueBy: number): Promise<LoadedClaim | undefined>;
  /** Extends this claim (stamped `claimedAt`) to at least `until`; the ids still held. */
  renewClaim(workspaceId: string, messageId: string, claimedAt: number, until: number): Promise<Set<string>>;
  /** Hands a claim back (no provider was called): each recipient to its earlier status, its attempt uncounted. */
  releaseClaim(workspaceId: string, messageId: string, rows: { id: string; status: RecipientStatus }[], messageStatus: MessageStatus, claimedAt: number): Promise<void>;
  /** One provider call's attempt row, written as it happens. */
  insertAttempt(row: NewAttempt): Promise<void>;
  /** The outcome of a job, all or nothing: recipients, attempts, events, campaign counters, the message. */
  recordDelivery(r: DeliveryRecord): Promise<MessageStatus>;
  /** A job for the message is due on the queue then (the outbox leaves it alone until then). */
  markDueAt(workspaceId: string, messageId: string, at: number): Promise<void>;
  /** Fails every still-pending recipient (the dead-letter path); how many. */
  failPending(workspaceId: string, messageId: string, reason: string, at: number): Promise<number>;
}

/** A message the outbox owes a job, with what the job carries. */
export interface DueMessage {
  id: string;
  workspaceId: string;
  sizeBytes: number;
}

/** What puts messages (back) on the queue. Cross-tenant by nature: it serves every workspace. */
export interface OutboxStore {
  /** Pending, due, and not put on the queue within the grace. */
  due(now: number, graceMs: number, limit: number): Promise<DueMessage[]>;
  /** With a recipient whose claim lapsed and no job due since. */
  lapsedClaims(now: number, limit: number): Promise<DueMessage[]>;
  /** When the next live claim lapses (null: none is held). */
  nextClaimLapse(now: number): Promise<number | null>;
  /** The workspace's messages waiting on the provider (or any, or pinned to it) become due now; at most `limit`. */
  releaseDeferredOn(workspaceId: string, providerId: string, now: number, limit: number): Promise<{ id: string; sizeBytes: number }[]>;
  markEnqueued(ids: string[], at: number): Promise<void>;
}

/** The groups of a store, by name (every group but `backend` and `close`). */
export const STORE_GROUPS = ["delivery", "outbox", "accept", "messages", "tenants", "audit", "recipients", "campaigns", "providers", "health", "llm", "webhooks", "inbound", "metrics", "retention"] as const;
export type StoreGroup = (typeof STORE_GROUPS)[number];

export interface Store {
  readonly backend: "d1" | "mysql";
  readonly delivery: DeliveryStore;
  readonly outbox: OutboxStore;
  readonly accept: AcceptStore;
  readonly messages: MessageStore;
  readonly tenants: TenantStore;
  readonly audit: AuditStore;
  readonly recipients: RecipientStore;
  readonly campaigns: CampaignStore;
  readonly providers: ProviderStore;
  readonly health: HealthStore;
  readonly llm: LlmStore;
  readonly webhooks: WebhookStore;
  readonly inbound: InboundStore;
  readonly metrics: MetricsStore;
  readonly retention: RetentionStore;
  /** Ends the store's connection, if it holds one (MySQL); call when the request's work is done. */
  close(): Promise<void>;
}
