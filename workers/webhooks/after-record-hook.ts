// The dispatcher's post-processing seam: each recorded outcome becomes customer webhook events
// (message.sent / deferred / failed / ...), delivered at once with a short timeout; what does
// not get through is retried by the sweep.
import type { RecipientStatus } from "../../core/status";
import type { AfterRecordHook } from "../dispatcher/hooks";
import { deliverNow } from "./deliver";
import { queueEvents, type NewEvent, type WebhookEventType } from "./events";
import { sendSettings, subscribes } from "../send-settings";

const EVENT_FOR: Partial<Record<RecipientStatus, WebhookEventType>> = {
  sent: "message.sent",
  delivered: "message.delivered",
  deferred: "message.deferred",
  failed: "message.failed",
  bounced: "message.bounced",
  complained: "message.complained",
  suppressed: "message.suppressed",
};

export const webhookAfterRecord: AfterRecordHook = async ({ env, store }, outcome) => {
  const relevant = outcome.recipients.filter((r) => EVENT_FOR[r.status]);
  if (relevant.length === 0) return;
  // Most workspaces subscribe to nothing: the isolate's cached subscription list answers that
  // without a query (a new endpoint is seen within its TTL; see workers/send-settings.ts).
  const wanted = new Set(relevant.map((r) => EVENT_FOR[r.status]!));
  const settings = await sendSettings(store, outcome.workspaceId, outcome.at);
  if (![...wanted].some((event) => subscribes(settings, event))) return;
  const endpoints = await store.webhooks.subscribedEndpoints(outcome.workspaceId, [...wanted]);
  if (endpoints.length === 0) return;
  const { attemptOf, providerType } = await store.webhooks.eventFacts(outcome.workspaceId, relevant.map((r) => r.id), outcome.providerId);
  const events: NewEvent[] = relevant.map((r) => ({
    type: EVENT_FOR[r.status]!,
    data: {
      message_id: outcome.messageId,
      // The id of the API request that accepted the message (X-Request-Id), to follow it end to end.
      request_id: outcome.requestId,
      message_status: outcome.status,
      recipient: r.email,
      status: r.status,
      provider: outcome.providerId ? { id: outcome.providerId, type: providerType } : null,
      provider_message_id: r.providerMessageId,
      attempt: attemptOf.get(r.id) ?? null,
      reason: r.reason,
    },
  }));
  const queued = await queueEvents(store, outcome.workspaceId, events, outcome.at);
  if (queued.length > 0) await deliverNow({ env, store, now: Date.now }, queued);
};
