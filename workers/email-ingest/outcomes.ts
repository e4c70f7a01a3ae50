// One after-the-fact report about a delivery (a bounce, a complaint, a provider event) applied
// to the records and turned into customer webhook events. Shared by the bounce mailbox and the
// provider webhooks so both mean the same thing.
import type { Db } from "../../db/client";
import { applyOutcome, providerTypeOf, type DeliveryRef, type OutcomeInput } from "../../db/inbound";
import { deliverNow } from "../webhooks/deliver";
import { queueEvents, type NewEvent } from "../webhooks/events";
import { readConfig } from "../../core/config";

export type ReportKind = "hard" | "soft" | "complaint" | "auto_reply" | "delivered" | "unsubscribed" | "opened" | "clicked";

export interface Report {
  kind: ReportKind;
  /** Where it came from: "bounce" (DSN mail), "arf", "mailgun", ... */
  source: string;
  status?: string | null;
  diagnostic?: string | null;
  extra?: Record<string, unknown>;
}

export async function recordReport(env: Env, db: Db, ref: DeliveryRef, report: Report, at: number): Promise<void> {
  const detail: Record<string, unknown> = {
    source: report.source,
    ...(report.status ? { status: report.status } : {}),
    ...(report.diagnostic ? { diagnostic: report.diagnostic.slice(0, 500) } : {}),
    ...report.extra,
  };
  const input: OutcomeInput = { ref, eventType: report.kind, detail, at };
  const reason = report.diagnostic ?? report.status ?? null;
  switch (report.kind) {
    case "hard":
      Object.assign(input, { status: "bounced", lastError: reason ?? "hard bounce", eventType: "bounce_hard", hardBounce: { suppressAfter: readConfig(env).inbound.suppressAfter } });
      break;
    case "soft":
      // The remote server keeps trying; the relay's part is done, so the status stays.
      Object.assign(input, { eventType: "bounce_soft" });
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
  const result = await applyOutcome(db, input);

  const providerType = await providerTypeOf(db, ref.workspaceId, ref.providerId);
  const base = {
    message_id: ref.messageId,
    recipient: ref.email,
    provider: ref.providerId ? { id: ref.providerId, type: providerType } : null,
    source: report.source,
    ...(result.messageStatus ? { message_status: result.messageStatus } : {}),
  };
  const bounce = { status: report.status ?? null, diagnostic: report.diagnostic ?? null };
  const events: NewEvent[] = [];
  switch (report.kind) {
    case "hard":
      events.push({ type: "message.bounced", data: { ...base, status: "bounced", bounce: { type: "hard", ...bounce }, reason } });
      break;
    case "soft":
      events.push({ type: "message.deferred", data: { ...base, status: ref.status, bounce: { type: "soft", ...bounce }, reason } });
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
  const queued = await queueEvents(db, ref.workspaceId, events, at);
  if (queued.length > 0) await deliverNow({ env, db, now: Date.now }, queued);
}
