// Message status is derived from its recipients' statuses, never stored independently of them.
// The lists are the domain's; db/schema/ takes its column enums from here.

export const MESSAGE_STATUSES = ["queued", "sending", "deferred", "sent", "partially_failed", "failed", "cancelled"] as const;

export const RECIPIENT_DELIVERY_STATUSES = [
  "queued",
  "sending",
  "deferred",
  "sent",
  "delivered",
  "bounced",
  "complained",
  "failed",
  "suppressed",
  "rejected",
  "cancelled",
] as const;

export type RecipientStatus = (typeof RECIPIENT_DELIVERY_STATUSES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses in which the relay still owes the recipient a delivery attempt. */
export const PENDING_STATUSES: readonly RecipientStatus[] = ["queued", "sending", "deferred"];
const SUCCESS: readonly RecipientStatus[] = ["sent", "delivered"];

export const isPending = (s: RecipientStatus): boolean => PENDING_STATUSES.includes(s);

export function deriveMessageStatus(statuses: readonly RecipientStatus[]): MessageStatus {
  if (statuses.length === 0) return "failed";
  if (statuses.some((s) => s === "sending")) return "sending";
  if (statuses.some((s) => s === "deferred")) return "deferred";
  if (statuses.some((s) => s === "queued")) return "queued";
  if (statuses.every((s) => s === "cancelled")) return "cancelled";
  const ok = statuses.filter((s) => SUCCESS.includes(s)).length;
  if (ok === statuses.length) return "sent";
  return ok === 0 ? "failed" : "partially_failed";
}
