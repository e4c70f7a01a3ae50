// Campaigns: a label a message may carry, with per-recipient counters kept per UTC day.
// Counters are event counts, not a snapshot: a recipient accepted and then sent counts once in
// `queued` and once in `sent`; a later bounce adds one to `bounced` without taking `sent` back
// (what Mailgun and SES report as well). Each counter moves only when a recipient's status
// actually changes into it (db/campaigns.ts), so queue redelivery never counts twice.
import { z } from "@hono/zod-openapi";
import { RelayError } from "./errors";

export const CAMPAIGN_STATUSES = ["draft", "active", "completed", "cancelled"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_COUNTERS = ["queued", "sent", "delivered", "bounced", "complained", "failed", "suppressed"] as const;
export type CampaignCounter = (typeof CAMPAIGN_COUNTERS)[number];
export type CampaignCounts = Record<CampaignCounter, number>;

/** Recipient statuses that are themselves a counter (entering one adds to it). */
export const COUNTED_STATUSES: readonly string[] = CAMPAIGN_COUNTERS;

/**
 * Names a campaign from inside a message (raw MIME, SMTP, inbound mail, or a JSON send's `headers`):
 * read and removed before the message is stored on every path, so it never reaches a recipient.
 */
export const CAMPAIGN_HEADER = "x-relay-campaign";

export const campaignIdSchema = z
  .string()
  .regex(/^cmp_[\w-]{1,40}$/, "must be a campaign id (cmp_...)")
  .openapi({ description: "Count this message in a campaign of the workspace (POST /v1/campaigns); the campaign must be active" });

/** UTC day (YYYY-MM-DD) a counter moves on. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Whether a message may be counted in a campaign with this status. Only `active` campaigns take
 * messages: a draft is not started, and a completed or cancelled one must keep its numbers.
 */
export function assertCampaignOpen(id: string, status: CampaignStatus | undefined): void {
  if (status === undefined) throw new RelayError("unknown_campaign", `campaign_id: no campaign ${id} in this workspace`);
  if (status !== "active") throw new RelayError("campaign_not_active", `campaign_id: campaign ${id} is ${status}; only active campaigns take messages`);
}

/** A cancelled campaign is final; every other status may change to any other. */
export function assertStatusChange(from: CampaignStatus, to: CampaignStatus): void {
  if (from === "cancelled" && to !== "cancelled") throw new RelayError("conflict", "a cancelled campaign cannot be reopened");
}

export const zeroCounts = (): CampaignCounts => ({ queued: 0, sent: 0, delivered: 0, bounced: 0, complained: 0, failed: 0, suppressed: 0 });

export function sumCounts(rows: Partial<CampaignCounts>[]): CampaignCounts {
  const total = zeroCounts();
  for (const r of rows) for (const k of CAMPAIGN_COUNTERS) total[k] += r[k] ?? 0;
  return total;
}
