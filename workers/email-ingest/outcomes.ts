// One after-the-fact report about a delivery (a bounce, a complaint, a provider event) applied
// to the records and turned into customer webhook events. Shared by the bounce mailbox and the
// provider webhooks so both mean the same thing.
import type { DeliveryRef, OutcomeInput } from "../../db/store/inbound";
import type { Store } from "../../db/store/store";
import { deliverNow } from "../webhooks/deliver";
import { queueEvents, type NewEvent } from "../webhooks/events";
import { readConfig } from "../../core/config";
import { bounceSummary, countsAgainstSender, type BounceRecord } from "../../core/bounce/policy";
import { log } from "../log";

export type ReportKind = "hard" | "soft" | "complaint" | "auto_reply" | "delivered" | "unsubscribed" | "opened" | "clicked";

export interface Report {
  kind: ReportKind;
  /** Where it came from: "bounce" (DSN mail), "arf", "mailgun", ... */
  source: string;
  status?: string | null;
  diagnostic?: string | null;
  extra?: Record<string, unknown>;
  /**
   * What a bounce report says about this delivery (core/bounce/policy.ts): its reason, whether
   * it was given up or only delayed, and whether it counts toward suppression. Without it (a
   * provider's event), hard means given up and counted, soft means delayed.
   */
  bounce?: BounceRecord;
}

/** The bounce record's fields as the recipient event and the webhooks carry them. */
const bounceFields = (b: BounceRecord) => ({
  ...bounceSummary(b),
  final: b.final,
  suppress: b.suppress,
  reported_recipient: b.reported_recipient,
  recipient_matched: b.recipient_matched,
});

export async function recordReport(env: Env, store: Store, ref: DeliveryRef, report: Report, at: number): Promise<void> {
  const detail: Record<string, unknown> = {
    source: report.source,
    ...(report.status ? { status: report.status } : {}),
    ...(report.diagnostic ? { diagnostic: report.diagnostic.slice(0, 500) } : {}),
    ...report.extra,
  };
  const b = report.bounce;
  if (b) Object.assign(detail, bounceFields(b), { diagnostic: b.diagnostic?.slice(0, 500) ?? null });
  const input: OutcomeInput = { ref, eventType: report.kind, detail, at };
  const reason = report.diagnostic ?? report.status ?? null;
  // Given up: the recipient is bounced. Counted toward suppression only when the address itself
  // is the problem (hard) and is the one this delivery was sent to.
  const givenUp = b ? b.final : report.kind === "hard";
  const counted = b ? b.suppress : report.kind === "hard";
  switch (report.kind) {
    case "hard":
    case "soft":
      input.eventType = b ? (b.type === "hard" ? "bounce_hard" : "bounce_soft") : `bounce_${report.kind}`;
      if (givenUp) {
        input.status = "bounced";
        input.lastError = b ? `${b.reason}: ${b.diagnostic ?? b.status ?? "bounced"}` : (reason ?? "hard bounce");
      }
      // Otherwise the remote server keeps trying; the relay's part is done, so the status stays.
      if (counted) input.hardBounce = { suppressAfter: readConfig(env).inbound.suppressAfter };
      if (b) input.bounce = bounceSummary(b);
      break;
    case "complaint":
      Object.assign(input, { status: "complained", suppress: "complained" });
      break;
    case "delivered":
      if (ref.status === "sent" || ref.status === "deferred" || ref.status === "sending") input.status = "delivered";
      break;
    case "unsubscribed":
      input.suppress = "unsubscribed";
      break;
  }
  const result = await store.inbound.applyOutcome(input);

  const providerType = await store.inbound.providerTypeOf(ref.workspaceId, ref.providerId);
  const base = {
    message_id: ref.messageId,
    recipient: ref.email,
    provider: ref.providerId ? { id: ref.providerId, type: providerType } : null,
    source: report.source,
    ...(result.messageStatus ? { message_status: result.messageStatus } : {}),
  };
  const bounce = b ? bounceFields(b) : { type: report.kind, status: report.status ?? null, diagnostic: report.diagnostic ?? null };
  const events: NewEvent[] = [];
  switch (report.kind) {
    case "hard":
    case "soft":
      if (givenUp) events.push({ type: "message.bounced", data: { ...base, status: "bounced", bounce, reason: b?.reason ?? reason } });
      else events.push({ type: "message.deferred", data: { ...base, status: ref.status, bounce, reason: b?.reason ?? reason } });
      if (b && countsAgainstSender(b)) {
        // The relay's reputation, authentication or content: the provider's and the sending
        // domain's problem, never the recipient's (relay_sender_side_bounces in /metrics).
        log.warn("bounce_sender_side", { workspace_id: ref.workspaceId, provider_id: ref.providerId, reason: b.reason, status: b.status, remote_mta: b.remote_mta });
      }
      if (b && !b.recipient_matched) log.warn("bounce_recipient_unmatched", { workspace_id: ref.workspaceId, message_recipient_id: ref.messageRecipientId, reason: b.reason });
      break;
    case "complaint":
      events.push({ type: "message.complained", data: { ...base, status: "complained", ...report.extra } });
      break;
    case "delivered":
      events.push({ type: "message.delivered", data: { ...base, status: "delivered" } });
      break;
    case "unsubscribed":
      events.push({ type: "recipient.unsubscribed", data: { ...base } });
      break;
    case "opened":
      events.push({ type: "message.opened", data: { ...base } });
      break;
    case "clicked":
      events.push({ type: "message.clicked", data: { ...base, ...report.extra } });
      break;
  }
  if (result.suppressed) events.push({ type: "message.suppressed", data: { ...base, status: "suppressed", reason: result.suppressed, bounce_count: result.bounceCount } });
  const queued = await queueEvents(store, ref.workspaceId, events, at);
  if (queued.length > 0) await deliverNow({ env, store, now: Date.now }, queued);
}
