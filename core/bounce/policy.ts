// What the relay does with one bounced recipient: the record kept on the recipient event, the
// message recipient and the `message.bounced` webhook, and whether it counts toward suppressing
// the address. Suppression is earned only by a recipient-caused reason (hard) about an address
// the relay actually sent to: a sender-side reason (blocked, spam, policy, authentication, rate)
// never suppresses, and an address the report names that the delivery was not addressed to is
// flagged, not suppressed.
import { addressKey } from "./address";
import { REASON_INFO, type Cause, type Reason } from "./reasons";
import type { ReportedRecipient } from "./verdict";

export interface BounceRecord {
  /** hard: the address is bad; soft: it is not (or not only) the address. */
  type: "hard" | "soft";
  /** The delivery was given up (true) or is only delayed (false). */
  final: boolean;
  reason: Reason;
  cause: Cause;
  status: string | null;
  /** True when the report gave no status and it was inferred from the reason. */
  status_inferred: boolean;
  diagnostic: string | null;
  remote_mta: string | null;
  /** The address the report names as failed (null when it names none). */
  reported_recipient: string | null;
  /** False when the report names an address other than the one this delivery was sent to. */
  recipient_matched: boolean;
  /** Whether this bounce counts toward suppressing the address. */
  suppress: boolean;
}

/** The record for a reported recipient of a delivery addressed to `sentTo`. */
export function bounceRecord(r: ReportedRecipient, sentTo: string): BounceRecord {
  const reported = r.email || null;
  const matched = reported === null || addressKey(reported) === addressKey(sentTo);
  const type = r.kind === "hard" ? "hard" : "soft";
  return {
    type,
    final: r.final,
    reason: r.reason,
    cause: REASON_INFO[r.reason].cause,
    status: r.status,
    status_inferred: r.statusInferred,
    diagnostic: r.diagnostic,
    remote_mta: r.remoteMta,
    reported_recipient: reported,
    recipient_matched: matched,
    suppress: type === "hard" && matched,
  };
}

/** Sender-side bounces count against the provider and the sending domain (an alertable metric). */
export const countsAgainstSender = (b: Pick<BounceRecord, "cause">): boolean => b.cause === "sender";

/** What message_recipients.bounce keeps of the last bounce (returned by the API, counted by /metrics). */
export type BounceSummary = Pick<BounceRecord, "type" | "reason" | "cause" | "status" | "status_inferred" | "diagnostic" | "remote_mta">;

export const bounceSummary = (b: BounceRecord): BounceSummary => ({
  type: b.type,
  reason: b.reason,
  cause: b.cause,
  status: b.status,
  status_inferred: b.status_inferred,
  diagnostic: b.diagnostic,
  remote_mta: b.remote_mta,
});
