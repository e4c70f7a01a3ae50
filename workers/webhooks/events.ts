// Customer-facing events: one format whichever provider delivered. Each event is queued once
// per subscribed endpoint (webhook_events row; its id is the `webhook-id`), then delivered by
// deliver.ts right away and by the sweep until it succeeds or is given up.
import { decryptText, encryptText, loadKeyring } from "../../core/crypto";
import { readConfig } from "../../core/config";
import { newId } from "../../core/ids";
import type { Store } from "../../db/store/store";
import type { NewWebhookEvent, WebhookEventRow, WebhookStore } from "../../db/store/webhooks";

/** Where events are queued and delivered: the store's webhooks group. */
export type WebhookTarget = Pick<Store, "webhooks">;
export const webhooksOf = (t: WebhookTarget): WebhookStore => t.webhooks;

export const WEBHOOK_EVENT_TYPES = [
  "message.queued",
  "message.sent",
  "message.delivered",
  "message.deferred",
  "message.bounced",
  "message.failed",
  "message.complained",
  "message.suppressed",
  "message.opened",
  "message.clicked",
  "recipient.unsubscribed",
  "provider.circuit_opened",
  "provider.circuit_closed",
  "endpoint.disabled",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface EventData {
  message_id?: string | null;
  recipient?: string | null;
  status?: string | null;
  provider?: { id: string; type: string | null } | null;
  attempt?: number | null;
  reason?: string | null;
  [k: string]: unknown;
}

export interface NewEvent {
  type: WebhookEventType;
  data: EventData;
}

export const secretAad = (workspaceId: string, endpointId: string) => `${workspaceId}/${endpointId}/webhook-secret`;

export async function sealSecret(env: Env, workspaceId: string, endpointId: string, secret: string): Promise<string> {
  const ring = await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);
  return encryptText(ring, secret, secretAad(workspaceId, endpointId));
}

export async function openSecret(env: Env, workspaceId: string, endpointId: string, sealed: string): Promise<string> {
  const ring = await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);
  return decryptText(ring, sealed, secretAad(workspaceId, endpointId));
}

/**
 * The order a message's events happen in when two fall in the same millisecond (the stage rank in
 * a sequence number): accepted, handed over, retried, delivered, engaged, failed, suppressed.
 */
const STAGE: Record<WebhookEventType, number> = {
  "message.queued": 0,
  "message.sent": 1,
  "message.deferred": 2,
  "message.delivered": 3,
  "message.opened": 4,
  "message.clicked": 5,
  "message.bounced": 6,
  "message.failed": 7,
  "message.complained": 8,
  "recipient.unsubscribed": 9,
  "message.suppressed": 10,
  "provider.circuit_opened": 11,
  "provider.circuit_closed": 12,
  "endpoint.disabled": 13,
};

/**
 * An event's `sequence`: the time its outcome was recorded (ms) × 1000, plus its stage × 64, plus
 * its place among the events recorded together (capped at 63). Increasing along one message's life
 * (accept, each delivery attempt, each inbound report are recorded one after another), computed
 * where the event is queued: no counter, no extra query. Two recipients' events of one stage in the
 * same batch past the 64th share a number; they are about different recipients.
 */
export function eventSequence(type: WebhookEventType, at: number, index = 0): number {
  return at * 1000 + STAGE[type] * 64 + Math.min(Math.max(index, 0), 63);
}

/** The JSON body every endpoint receives. */
export function eventPayload(type: WebhookEventType, at: number, data: EventData, sequence = eventSequence(type, at)): Record<string, unknown> {
  return { type, timestamp: new Date(at).toISOString(), sequence, data };
}

/** Queues events for every subscribed endpoint of the workspace; returns the queued rows. */
export async function queueEvents(target: WebhookTarget, workspaceId: string, events: NewEvent[], at: number): Promise<WebhookEventRow[]> {
  if (events.length === 0) return [];
  const hooks = webhooksOf(target);
  const endpoints = await hooks.subscribedEndpoints(workspaceId, events.map((e) => e.type));
  if (endpoints.length === 0) return [];
  const rows: NewWebhookEvent[] = [];
  for (const [i, e] of events.entries()) {
    // One number per event, the same on every endpoint it is queued for.
    const payload = eventPayload(e.type, at, e.data, eventSequence(e.type, at, i));
    for (const ep of endpoints) {
      if (!ep.events.includes("*") && !ep.events.includes(e.type)) continue;
      rows.push({
        id: newId("wev"),
        endpointId: ep.id,
        messageId: typeof e.data.message_id === "string" ? e.data.message_id : null,
        type: e.type,
        payload,
        status: "pending" as const,
        nextAttemptAt: at,
        createdAt: at,
      });
    }
  }
  return hooks.insertEvents(workspaceId, rows);
}
