// The store's accept group (db/store/store.ts): what a send needs to decide (the workspace's send
// settings, suppressions, campaign status, sender domains nobody verified, the workspace inbound
// mail belongs to) and the one durable write of a message with its recipients, headers,
// attachments, campaign counters and idempotency record, plus the idempotency look-ups before it.
// Operations are in core terms: no query builder, statement or driver type crosses them. A
// duplicate idempotency key (which is also how a Message-ID generation is kept unique) comes back
// as a value: callers never inspect driver errors.
import type { CampaignStatus } from "../../core/campaigns";
import type { Generation } from "../../core/resubmission";
import type { InboundWorkspace } from "../../core/workspace-resolution";
import type { InsertedMessage, NewMessage } from "../messages/accept";
import type { idempotencyKeys } from "../schema";
import type { SendSettingsRows } from "../send-settings";

export type { InsertedMessage, NewMessage, SendSettingsRows };

/** A stored idempotency record: the request's hash and the first answer, replayed byte for byte. */
export type IdempotencyRecord = typeof idempotencyKeys.$inferSelect;

/**
 * What insertMessage did: everything stored (the message `queued`, or `failed` when every
 * recipient was suppressed, with each recipient's fate by exact address), or nothing at all
 * because the idempotency key was already taken; `first` is the record that took it.
 */
export type InsertOutcome = { status: "stored"; messageStatus: InsertedMessage["status"]; recipients: InsertedMessage["recipients"] } | { status: "duplicate"; first: IdempotencyRecord };

export interface AcceptStore {
  /**
   * Whether the workspace has an enabled provider, its DLP policy and settings (unparsed), the
   * events its enabled webhook endpoints subscribe to, and its verified sender domains: one
   * round trip on D1 (workers/send-settings.ts caches it per isolate).
   */
  sendSettings(workspaceId: string): Promise<SendSettingsRows>;
  /** Of these addresses (any case), the workspace's recipient records that are not active (bounced, complained, unsubscribed). */
  suppressed(workspaceId: string, emails: string[]): Promise<{ email: string; status: "bounced" | "complained" | "unsubscribed" | "active" }[]>;
  /** The campaign's status, when the workspace has it (another workspace's id: undefined). */
  campaignStatus(workspaceId: string, campaignId: string): Promise<CampaignStatus | undefined>;
  /**
   * Cross-tenant: of these domains, the ones neither verified nor under a verified parent in ANY
   * workspace (only the default workspace's inbound mail may send as those).
   */
  unclaimedDomains(domains: string[]): Promise<string[]>;
  /**
   * Cross-tenant: the workspace that verified `domain` (inbound mail belongs to it) and, when
   * `defaultSlug` is set, the default workspace by slug.
   */
  inboundWorkspaces(domain: string, defaultSlug: string | null): Promise<{ owner: InboundWorkspace | undefined; fallback: InboundWorkspace | undefined }>;
  /**
   * The accept path's one write, all or nothing: the message, recipient records for new
   * addresses, its recipients (each `suppressed` when the workspace's record for the address, in
   * any case, is not active; decided inside the write), header names, attachments, campaign
   * counters, and the idempotency record last, whose stored answer is computed from the rows
   * written. `m.message.workspaceId` must be `workspaceId`.
   */
  insertMessage(workspaceId: string, m: NewMessage): Promise<InsertOutcome>;
  /** The idempotency record under `key`, from the primary (it gates a write). */
  idempotencyRecord(workspaceId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** The records of a Message-ID's generations: `base` and every `base#<n>` (core/resubmission.ts). */
  messageIdGenerations(workspaceId: string, base: string): Promise<Generation[]>;
}

/** insertMessage is scoped by its first parameter: a message of another workspace is a caller's bug, refused before any write. */
export function sameWorkspace(workspaceId: string, rowWorkspaceId: string): void {
  if (rowWorkspaceId !== workspaceId) throw new Error(`insertMessage: the message belongs to workspace ${rowWorkspaceId}, not ${workspaceId}`);
}
