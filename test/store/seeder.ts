// What the store conformance suite (test/store/conformance*.ts) needs besides the store itself:
// rows to work on, written behind the store's back, and the rows read back afterwards to see what
// an operation wrote. One implementation in plain SQL (test/store/sql-seeder.ts) that both
// backends understand, over an executor per backend: test/store/d1-seeder.ts (env.DB) and
// test/store/mysql-seeder.ts (mysql2 through Hyperdrive). Values come back normalized (numbers,
// parsed JSON), so an assertion never depends on the backend's driver.
import type { MessageStatus, RecipientStatus } from "../../core/status";

export interface ProviderSeed {
  type: "sandbox" | "mailgun" | "gmail" | "smtp";
  status?: "enabled" | "disabled";
  /** Non-secret settings, e.g. `{ timeout_ms: 12000 }`. */
  config?: Record<string, unknown>;
  priority?: number;
  createdAt?: number;
  name?: string;
}

export interface RateLimitSeed {
  scope: "global" | "workspace" | "provider";
  providerId?: string | null;
  period: "second" | "minute" | "hour" | "day";
  maxCount: number;
  burst?: number | null;
}

/** A message recipient as seeded: defaults are a fresh `queued` row, never attempted. */
export interface RecipientSeed {
  email?: string;
  status?: RecipientStatus;
  attempts?: number;
  updatedAt?: number;
  leaseUntil?: number | null;
}

export interface MessageSeed {
  /** N fresh queued recipients (r0@…, r1@…), or each one's state. */
  recipients: number | RecipientSeed[];
  status?: MessageStatus;
  notBefore?: number | null;
  enqueuedAt?: number | null;
  waitingOn?: string | null;
  campaignId?: string | null;
  queuedAt?: number;
  updatedAt?: number;
  sizeBytes?: number;
}

export interface SeededMessage {
  id: string;
  /** In the order of the seed's recipients. */
  recipientIds: string[];
  emails: string[];
}

export interface RecipientState {
  id: string;
  email: string;
  status: RecipientStatus;
  attempts: number;
  updatedAt: number;
  leaseUntil: number | null;
  providerId: string | null;
  providerMessageId: string | null;
  lastError: string | null;
  sentAt: number | null;
}

export interface MessageState {
  status: MessageStatus;
  updatedAt: number;
  enqueuedAt: number | null;
  notBefore: number | null;
  waitingOn: string | null;
  attemptCount: number;
  lastError: string | null;
  processedAt: number | null;
}

export interface AttemptState {
  id: string;
  messageId: string;
  workspaceId: string;
  deliveryId: string;
  providerId: string | null;
  recipients: string[];
  outcome: string;
  detail: string | null;
  providerMessageId: string | null;
  latencyMs: number | null;
  startedAt: number;
  finishedAt: number;
}

export interface EventState {
  workspaceId: string;
  recipientId: string | null;
  messageRecipientId: string | null;
  type: string;
  detail: Record<string, unknown>;
  createdAt: number;
}

export interface CampaignDayState {
  day: string;
  queued: number;
  sent: number;
  delivered: number;
  bounced: number;
  complained: number;
  failed: number;
  suppressed: number;
}

export interface Seeder {
  workspace(opts?: { configuration?: Record<string, unknown> }): Promise<string>;
  provider(workspaceId: string, p: ProviderSeed): Promise<string>;
  rateLimit(workspaceId: string, r: RateLimitSeed): Promise<string>;
  campaign(workspaceId: string): Promise<string>;
  /** A recipient record (the `recipients` table), which delivery events link to by address. */
  recipientRecord(workspaceId: string, email: string): Promise<string>;
  message(workspaceId: string, m: MessageSeed): Promise<SeededMessage>;
  /** Changes a message recipient behind the store's back (another consumer's claim, a lapse). */
  setRecipient(id: string, patch: Partial<Pick<RecipientState, "status" | "attempts" | "updatedAt" | "leaseUntil">>): Promise<void>;
  setMessage(id: string, patch: Partial<Pick<MessageState, "status" | "notBefore" | "enqueuedAt" | "waitingOn">>): Promise<void>;

  /** The message's recipients, in the order they were seeded. */
  recipients(messageId: string): Promise<RecipientState[]>;
  messageRow(messageId: string): Promise<MessageState | undefined>;
  /** The message's attempt rows, by started_at then id. */
  attempts(messageId: string): Promise<AttemptState[]>;
  /** The message's recipient events, by type then message recipient id. */
  events(messageId: string): Promise<EventState[]>;
  /** The campaign's day rows, by day. */
  campaignDays(campaignId: string): Promise<CampaignDayState[]>;
}
