// The event contract in the OpenAPI document (`webhooks:` of OpenAPI 3.1, issue 27): one entry per
// event type of WEBHOOK_EVENT_TYPES (workers/webhooks/events.ts, the list endpoints subscribe
// with), each the POST a subscribed endpoint receives, with the JSON Schema of its body. The body
// is eventPayload()'s envelope {type, timestamp, sequence, data}; `data` is what the code that
// raises the event puts in it (accept.ts, webhooks/after-record-hook.ts, email-ingest/outcomes.ts,
// core/routing/provider-state.ts breakerEvents, webhooks/deliver.ts). test/webhook-event-schemas.test.ts
// checks real deliveries against these schemas, so a builder that changes its fields fails there.
// Objects are open (new fields may be added without a version bump): a receiver ignores what it
// does not know.
// Not part of index.js (the bundle budget): scripts/vendor.mjs renders webhookEventsDocument() to
// JSON at install time into workers/vendor/webhook-events.js, which GET /openapi.json loads on
// first use (workers/lazy-libs.ts) and merges into the document (app.ts).
import { z } from "@hono/zod-openapi";
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { RECIPIENT_DELIVERY_STATUSES } from "../../core/status";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../webhooks/events";

const nullableString = z.string().nullable();
const provider = z
  .object({ id: z.string(), type: nullableString.describe("Provider type (sandbox, mailgun, …); null when not known at the time") })
  .nullable()
  .openapi("EventProvider");

/** Fields every message and recipient event may carry besides its own. */
const recipientFields = {
  message_id: z.string().describe("The message (msg_…)"),
  recipient: z.string().describe("The recipient's address"),
  request_id: nullableString.optional().describe("X-Request-Id of the API request that accepted the message"),
  message_status: z.string().optional().describe("The message's status after this event"),
  provider: provider.optional(),
  provider_message_id: nullableString.optional().describe("The provider's id for the handed-over copy"),
  attempt: z.number().int().nullable().optional().describe("Delivery attempt number"),
  reason: nullableString.optional(),
  source: z.string().optional().describe("What reported it: accept, a provider webhook, inbound mail (bounce, ARF, …)"),
  bounce: z.looseObject({ type: z.string() }).optional().describe("Bounce details (type hard/soft, status, diagnostic, reason, …) when a report carried them"),
};

const recipientEvent = (status: z.ZodType | null) => z.looseObject(status ? { ...recipientFields, status } : recipientFields);

const DATA: Record<WebhookEventType, { summary: string; data: z.ZodType }> = {
  "message.queued": {
    summary: "A message was accepted and at least one recipient queued",
    data: z.looseObject({
      message_id: z.string(),
      request_id: nullableString,
      status: z.enum(["queued", "failed"]).describe("The message's status at accept"),
      recipients: z.number().int().describe("Recipients accepted"),
      queued: z.number().int().describe("Of those, queued for delivery (the rest were suppressed)"),
    }),
  },
  "message.sent": { summary: "A provider took the message for a recipient", data: recipientEvent(z.literal("sent")) },
  "message.delivered": { summary: "The provider reported delivery to a recipient", data: recipientEvent(z.literal("delivered")) },
  "message.deferred": {
    summary: "A delivery attempt failed temporarily (it will be retried) or a soft bounce arrived",
    data: recipientEvent(z.enum(RECIPIENT_DELIVERY_STATUSES).describe("The recipient's status (deferred, or unchanged for a soft bounce)")),
  },
  "message.bounced": { summary: "A recipient's delivery bounced for good", data: recipientEvent(z.literal("bounced")) },
  "message.failed": { summary: "Delivery to a recipient was given up", data: recipientEvent(z.literal("failed")) },
  "message.complained": { summary: "A recipient reported the message as spam", data: recipientEvent(z.literal("complained")) },
  "message.suppressed": {
    summary: "A recipient is suppressed: dropped at accept, or suppressed after bounces or a complaint",
    data: recipientEvent(z.literal("suppressed")).extend({
      bounce_count: z.number().int().optional().describe("Hard bounces counted for the address"),
    }),
  },
  "message.opened": { summary: "The provider reported an open", data: recipientEvent(null) },
  "message.clicked": { summary: "The provider reported a click", data: recipientEvent(null) },
  "recipient.unsubscribed": { summary: "A recipient unsubscribed (the address is suppressed)", data: recipientEvent(null) },
  "provider.circuit_opened": {
    summary: "A provider's circuit breaker opened: routing skips it until it recovers",
    data: z.looseObject({ provider: provider.unwrap(), status: z.literal("open"), reason: nullableString }),
  },
  "provider.circuit_closed": {
    summary: "A provider's circuit breaker closed again",
    data: z.looseObject({ provider: provider.unwrap(), status: z.literal("closed"), reason: nullableString }),
  },
  "endpoint.disabled": {
    summary: "This endpoint was disabled after failing for too long; its pending events were given up",
    data: z.looseObject({ endpoint_id: z.string(), reason: z.string() }),
  },
};

const schemaName = (type: WebhookEventType) =>
  type
    .split(/[._]/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("") + "Event";

/** The body an endpoint receives for each event type (the envelope of eventPayload). */
export const WEBHOOK_EVENT_SCHEMAS = Object.fromEntries(
  WEBHOOK_EVENT_TYPES.map((type) => [
    type,
    z
      .object({
        type: z.literal(type),
        timestamp: z.iso.datetime().describe("When the outcome was recorded"),
        sequence: z.number().int().describe("Increasing along one message's life; delivery order is not guaranteed, order by this"),
        data: DATA[type].data,
      })
      .openapi(schemaName(type)),
  ]),
) as unknown as Record<WebhookEventType, z.ZodType>;

const DELIVERY =
  "Sent as a POST to every endpoint subscribed to this type (or to `*`), signed as Standard Webhooks specifies: " +
  "`webhook-id` (the event id, the same on a retry), `webhook-timestamp` (seconds) and `webhook-signature` " +
  "(`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the endpoint's `whsec_` secret). Any 2xx acknowledges; " +
  "otherwise it is retried with backoff for WEBHOOK_MAX_AGE_HOURS, then listed as failed in GET /v1/webhooks/{id}/events " +
  "(replay with POST /v1/webhook-events/{id}/replay). Events may arrive out of order or twice: " +
  "deduplicate by `webhook-id`, order by `sequence`.";

/** The document's `webhooks` and the components they use, to merge into /openapi.json. */
export interface WebhookEventsDocument {
  webhooks: Record<string, unknown>;
  schemas: Record<string, unknown>;
  securitySchemes: Record<string, unknown>;
}

export function webhookEventsDocument(): WebhookEventsDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "standardWebhooksSignature", {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description:
      "How a receiver authenticates the relay's events (Standard Webhooks): `webhook-signature` is `v1,` + the base64 " +
      "HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the endpoint's secret (the base64 after `whsec_`). " +
      "Verify it in constant time (any Standard Webhooks library does) and refuse a timestamp more than 5 minutes off.",
  });
  for (const type of WEBHOOK_EVENT_TYPES) {
    registry.registerWebhook({
      method: "post",
      path: type,
      operationId: `webhooks.on${schemaName(type).replace(/Event$/, "")}`,
      tags: ["webhooks"],
      summary: DATA[type].summary,
      description: DELIVERY,
      security: [{ standardWebhooksSignature: [] }],
      request: { body: { required: true, content: { "application/json": { schema: WEBHOOK_EVENT_SCHEMAS[type] } } } },
      responses: {
        200: { description: "Any 2xx acknowledges the event" },
        400: { description: "Refused (e.g. the signature did not verify): retried, then given up" },
      },
    });
  }
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: "3.1.0", info: { title: "webhooks", version: "0" } });
  return { webhooks: doc.webhooks ?? {}, schemas: doc.components?.schemas ?? {}, securitySchemes: doc.components?.securitySchemes ?? {} };
}
