// The event contract in the OpenAPI document (issue 27): `webhooks:` has one entry per event
// type, each with the JSON Schema of the body an endpoint receives, and real deliveries match
// them: accept (queued, suppressed), delivery (sent), a provider's webhook (delivered, opened,
// clicked, complained → suppressed, unsubscribed, a permanent failure → bounced), the breaker's
// events and endpoint.disabled as their builders make them. A builder that renames or retypes a
// field fails here; the document is built from the same zod schemas (workers/api/webhook-events.ts).
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { breakerEvents } from "../core/routing/provider-state";
import { WEBHOOK_EVENT_SCHEMAS, webhookEventsDocument } from "../workers/api/webhook-events";
import { eventPayload, WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../workers/webhooks/events";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";
import { captureWebhooks } from "./inbound-fixtures";
import { accept, mailgunProvider, uniq, workspaceWith } from "./simulators/delivery-fixtures";

type Doc = {
  webhooks: Record<string, { post: { operationId: string; security: unknown[]; requestBody: { content: { "application/json": { schema: { $ref: string } } } } } }>;
  components: { schemas: Record<string, { properties: { type: { enum: string[] }; data: unknown }; required: string[] }>; securitySchemes: Record<string, unknown> };
};

function conforms(body: { type: WebhookEventType }) {
  const schema = WEBHOOK_EVENT_SCHEMAS[body.type];
  expect(schema, body.type).toBeDefined();
  const r = schema.safeParse(body);
  expect(r.success ? "ok" : `${body.type}: ${JSON.stringify(r.error.issues)} in ${JSON.stringify(body)}`).toBe("ok");
}

async function until(cond: () => boolean, ms = 6000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

const SIGNING_KEY = "key-test-signing-0123456789";
function signed(eventData: Record<string, unknown>) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = crypto.randomUUID().replace(/-/g, "");
  return { signature: { timestamp, token, signature: createHmac("sha256", SIGNING_KEY).update(timestamp + token).digest("hex") }, "event-data": eventData };
}

describe("the webhook events in the OpenAPI document", () => {
  it("lists every event type with the JSON Schema of its body", async () => {
    const doc = await json<Doc>(await api("/openapi.json"));
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    const ids = new Set<string>();
    for (const type of WEBHOOK_EVENT_TYPES) {
      const op = doc.webhooks[type]!.post;
      ids.add(op.operationId);
      expect(op.security).toEqual([{ standardWebhooksSignature: [] }]);
      const ref = op.requestBody.content["application/json"].schema.$ref;
      const schema = doc.components.schemas[ref.replace("#/components/schemas/", "")]!;
      expect(schema.properties.type.enum, type).toEqual([type]);
      expect(schema.required).toEqual(["type", "timestamp", "sequence", "data"]);
      expect(schema.properties.data, type).toMatchObject({ type: "object" });
    }
    expect(ids.size).toBe(WEBHOOK_EVENT_TYPES.length);
    expect(doc.components.securitySchemes.standardWebhooksSignature).toBeDefined();
    // The served part is the JSON scripts/vendor.mjs rendered from these zod schemas: not stale.
    const fresh = webhookEventsDocument();
    expect(doc.webhooks).toEqual(fresh.webhooks);
    for (const [name, schema] of Object.entries(fresh.schemas)) expect(doc.components.schemas[name], name).toEqual(schema);
  });

  it("accept and delivery events match their schemas", async () => {
    const ws = await createWorkspace();
    const gone = await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "gone@example.net" } }));
    expect((await api(`/v1/recipients/${gone.id}/suppression`, { method: "PUT", key: ws.key, json: { status: "complained" } })).status).toBe(200);
    const url = `https://receiver.test/${crypto.randomUUID()}`;
    const hooks = captureWebhooks(url);
    try {
      expect((await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events: ["*"] } })).status).toBe(201);
      const { id } = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "gone@example.net"] }) }));
      await waitForStatus(ws, id, ["sent", "partially_failed"]);
      await until(() => hooks.calls.length >= 3);
      const bodies = hooks.calls.map((c) => JSON.parse(c.body));
      expect(bodies.map((b) => b.type).sort()).toEqual(["message.queued", "message.sent", "message.suppressed"]);
      for (const b of bodies) conforms(b);
    } finally {
      hooks.restore();
    }
  });

  it("events from a provider's webhook match their schemas", { timeout: 20_000 }, async () => {
    const domain = `${uniq("evs")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    expect((await api(`/v1/providers/${ws.providerId}/webhook-signing-key`, { method: "PUT", key: ws.key, json: { signing_key: SIGNING_KEY } })).status).toBe(200);
    const url = `https://receiver.test/${crypto.randomUUID()}`;
    const hooks = captureWebhooks(url);
    try {
      expect((await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events: ["*"] } })).status).toBe(201);
      const send = async (to: string) => {
        const acc = await accept(ws, { to: [to] });
        await waitForStatus(ws, acc.id, ["sent"], 10_000);
        return acc.message_id.slice(1, -1);
      };
      const report = async (to: string, mgId: string, e: Record<string, unknown>) => {
        const res = await api(`/webhooks/mailgun/${ws.providerId}`, { method: "POST", json: signed({ recipient: to, message: { headers: { "message-id": mgId } }, ...e }) });
        expect(res.status, JSON.stringify(e)).toBe(200);
      };
      const a = await send("pat@example.net");
      await report("pat@example.net", a, { event: "delivered" });
      await report("pat@example.net", a, { event: "opened" });
      await report("pat@example.net", a, { event: "clicked", url: "https://clinic.example/x" });
      await report("pat@example.net", a, { event: "unsubscribed" });
      const b = await send("sam@example.net");
      await report("sam@example.net", b, { event: "complained" });
      const c = await send("kim@example.net");
      await report("kim@example.net", c, { event: "failed", severity: "permanent", reason: "bounce", "delivery-status": { code: 550, message: "5.1.1 user unknown" } });
      const wanted = ["message.delivered", "message.opened", "message.clicked", "recipient.unsubscribed", "message.complained", "message.bounced", "message.suppressed"];
      await until(() => wanted.every((t) => hooks.calls.some((h) => JSON.parse(h.body).type === t)));
      const bodies = hooks.calls.map((h) => JSON.parse(h.body));
      for (const t of wanted) expect(bodies.map((x) => x.type)).toContain(t);
      for (const x of bodies) conforms(x);
    } finally {
      hooks.restore();
    }
  });

  it("breaker and endpoint events, as their builders make them, match their schemas", () => {
    const at = Date.now();
    const transitions = [
      { from: "closed", to: "open", at, reason: "5 failures in a row" },
      { from: "open", to: "half_open", at: at + 1, reason: "open period over" },
      { from: "half_open", to: "closed", at: at + 2, reason: "trial succeeded" },
    ] as const;
    const events = breakerEvents("prv_x", transitions);
    expect(events.map((e) => e.type)).toEqual(["provider.circuit_opened", "provider.circuit_closed"]);
    for (const e of events) conforms(eventPayload(e.type, at, e.data) as { type: WebhookEventType });
    // As webhooks/deliver.ts builds it when it disables an endpoint.
    conforms(eventPayload("endpoint.disabled", at, { endpoint_id: "whe_x", reason: "failing for 24 hours" }) as { type: WebhookEventType });
    // And a body that breaks the contract does not pass.
    const wrong = WEBHOOK_EVENT_SCHEMAS["message.sent"].safeParse({ type: "message.sent", timestamp: new Date(at).toISOString(), sequence: 1, data: { message: "msg_x", recipient: "a@example.net", status: "sent" } });
    expect(wrong.success).toBe(false);
  });
});
