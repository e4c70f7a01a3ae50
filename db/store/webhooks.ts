// The store's webhooks group (db/store/store.ts): customer webhook endpoints, the events queued
// for them, the delivery loop's claims and attempts, and provider signing keys with their replay
// tokens. db/webhooks.ts is the D1 implementation and says what each operation means.
//
// Two kinds of operation. Workspace-scoped ones (endpoints and events as the API and the event
// queueing see them) take the workspace first and never touch another tenant's rows. The delivery
// loop's ones work by event or endpoint id alone: the sweep serves every workspace, and the ids
// come from the event it claimed. Signing-key look-ups by provider id are cross-tenant too: a
// provider's webhook names only the provider.
import type { webhookAttempts, webhookEndpoints, webhookEvents } from "../schema";
import type { AttemptRecord, EventQuery, WebhookAttemptRow, WebhookEndpointRow, WebhookEventRow } from "../webhooks";

export type { AttemptRecord, EventQuery, WebhookAttemptRow, WebhookEndpointRow, WebhookEventRow };

/** A new endpoint; the workspace is the operation's. */
export type NewWebhookEndpoint = Omit<typeof webhookEndpoints.$inferInsert, "workspaceId">;
/** A new event row; the workspace is the operation's. */
export type NewWebhookEvent = Omit<typeof webhookEvents.$inferInsert, "workspaceId">;
export type NewWebhookAttempt = typeof webhookAttempts.$inferInsert;

/** What a PATCH of an endpoint may change. */
export type EndpointPatch = Partial<Pick<WebhookEndpointRow, "url" | "events" | "enabled" | "description" | "secretEnc" | "disabledAt" | "disabledReason" | "failingSince">>;

/** A provider's webhook signing key (ciphertext: core/crypto.ts seals it before the store). */
export interface SigningKeyRow {
  providerId: string;
  workspaceId: string;
  signingKeyEnc: string;
  createdAt: number;
  updatedAt: number;
}

/** What a delivery event names beside the outcome. */
export interface EventFacts {
  /** Each recipient's attempt number, by message recipient id. */
  attemptOf: Map<string, number>;
  /** The provider's type (null: no provider, or not the workspace's). */
  providerType: string | null;
}

export interface WebhookStore {
  // Endpoints, per workspace.
  insertEndpoint(workspaceId: string, row: NewWebhookEndpoint): Promise<WebhookEndpointRow>;
  /** Oldest first. */
  listEndpoints(workspaceId: string): Promise<WebhookEndpointRow[]>;
  getEndpoint(workspaceId: string, id: string): Promise<WebhookEndpointRow | undefined>;
  /** The endpoint after the change; undefined when the workspace has no such endpoint. */
  updateEndpoint(workspaceId: string, id: string, patch: EndpointPatch, at: number): Promise<WebhookEndpointRow | undefined>;
  /** Whether there was one to remove. */
  deleteEndpoint(workspaceId: string, id: string): Promise<boolean>;
  /** Enabled endpoints of the workspace subscribed to any of `types` (or to "*"). */
  subscribedEndpoints(workspaceId: string, types: string[]): Promise<WebhookEndpointRow[]>;

  // Events, per workspace.
  /** Inserts the rows (each for one of the workspace's endpoints); the rows as stored. */
  insertEvents(workspaceId: string, rows: NewWebhookEvent[]): Promise<WebhookEventRow[]>;
  /** Each recipient's attempt count and the provider's type, in one round trip (D1). */
  eventFacts(workspaceId: string, recipientIds: string[], providerId: string | null): Promise<EventFacts>;
  /** An endpoint's events, newest first; `before` is the (created_at, id) of the last row of the previous page. */
  listEvents(workspaceId: string, endpointId: string, q: EventQuery): Promise<WebhookEventRow[]>;
  getEvent(workspaceId: string, id: string): Promise<WebhookEventRow | undefined>;
  /** The events' attempts, by event then attempt number. */
  listAttempts(workspaceId: string, eventIds: string[]): Promise<WebhookAttemptRow[]>;
  /** Replay: pending again, due at `at` (same id, so receivers can dedupe). Undefined when not the workspace's. */
  requeueEvent(workspaceId: string, id: string, at: number): Promise<WebhookEventRow | undefined>;

  // The delivery loop: by id, across workspaces.
  /** Ids of pending events whose next attempt is reached, the longest waiting first. Cross-tenant. */
  dueEvents(now: number, limit: number): Promise<string[]>;
  /**
   * Takes a due event for one delivery attempt by moving its next attempt to now + leaseMs:
   * of any number of concurrent claimers exactly one gets the row, the others undefined, until
   * the lease passes. Cross-tenant (by event id).
   */
  claimEvent(id: string, now: number, leaseMs: number): Promise<WebhookEventRow | undefined>;
  /** The attempt row and the event's new state, all or nothing. */
  recordAttempt(r: AttemptRecord): Promise<void>;
  /** The endpoint by id alone (the claimed event names it). Cross-tenant. */
  endpointById(id: string): Promise<WebhookEndpointRow | undefined>;
  /** ok: healthy again (failing_since cleared); else failing since its first failure. The endpoint after. Cross-tenant. */
  markEndpointHealth(endpointId: string, ok: boolean, at: number): Promise<WebhookEndpointRow | undefined>;
  /** Disables an enabled endpoint; false when it was not enabled (someone else disabled it). Cross-tenant. */
  disableEndpoint(endpointId: string, reason: string, at: number): Promise<boolean>;
  /** Gives up the endpoint's pending events (it is disabled). Cross-tenant. */
  failPendingEvents(endpointId: string, reason: string): Promise<void>;

  // Provider webhook signing keys and replay tokens.
  /** Sets the workspace's provider's key; never overwrites another workspace's key for the same provider id. */
  putSigningKey(workspaceId: string, providerId: string, signingKeyEnc: string, at: number): Promise<void>;
  deleteSigningKey(workspaceId: string, providerId: string): Promise<boolean>;
  /** By provider id alone (the webhook's URL names it). Cross-tenant. */
  getSigningKey(providerId: string): Promise<SigningKeyRow | undefined>;
  /**
   * Records a webhook's token; false when it was seen before within `keepMs` (a replay): of two
   * concurrent uses of one token exactly one is true. Tokens older than keepMs are pruned.
   */
  useToken(providerId: string, token: string, at: number, keepMs: number): Promise<boolean>;
}
