// The relay's API through its own generated client (clients/typescript, issue 27): send, poll the
// status until the sandbox provider has sent it, list, and webhook endpoints (create, list, the
// events queued for one, delivered and signed). `fetch` is routed to the Worker (SELF), so this
// is the real app, queue consumer and sandbox provider. The contract is checked twice: the calls
// and the fields read are typed from schema.d.ts (a renamed or retyped field fails `tsc`, which
// `npm run typecheck` runs over test/), and the values are asserted at run time.
import { SELF } from "cloudflare:test";
import { describe, expect, expectTypeOf, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createRelayClient, type RelayClient, type Schema } from "../clients/typescript/src/index";
import { createWorkspace, type TestWorkspace } from "./helpers";
import { captureWebhooks } from "./inbound-fixtures";

const clientFor = (ws: TestWorkspace): RelayClient =>
  createRelayClient({ baseUrl: "https://relay.test/", apiKey: ws.key, fetch: (req) => SELF.fetch(req) });

async function pollUntilSettled(relay: RelayClient, id: string, timeoutMs = 8000): Promise<Schema<"MessageDetail">> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data, error } = await relay.GET("/v1/messages/{id}", { params: { path: { id } } });
    if (error) throw new Error(`messages.get: ${error.error.code} ${error.error.message}`);
    if (!["queued", "sending", "deferred"].includes(data.status)) return data;
    if (Date.now() > deadline) throw new Error(`message ${id} stayed ${data.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the typed client against the Worker", () => {
  it("sends, polls until sent through the sandbox, lists, and manages webhook endpoints", async () => {
    const ws = await createWorkspace();
    const relay = clientFor(ws);
    const url = `https://receiver.test/${crypto.randomUUID()}`;
    const hooks = captureWebhooks(url);
    try {
      // webhooks.create: the secret is shown once.
      const created = await relay.POST("/v1/webhooks", { body: { url, events: ["message.queued", "message.sent"], description: "typed client" } });
      expect(created.response.status).toBe(201);
      const endpoint = created.data!;
      expectTypeOf(endpoint.events).toEqualTypeOf<string[]>();
      expect(endpoint).toMatchObject({ url, events: ["message.queued", "message.sent"], description: "typed client", enabled: true, failing_since: null });
      expect(endpoint.id).toMatch(/^whe_/);
      expect(endpoint.secret).toMatch(/^whsec_/);

      // messages.send, with an Idempotency-Key: a repeat gives the first answer.
      const body = {
        from: { email: `noreply@${ws.domain}`, name: "Clinic" },
        to: ["Pat Doe <pat@example.net>"],
        cc: [{ email: "nurse@example.net" }],
        subject: "Your appointment",
        text: "See you on Tuesday.",
        tags: ["reminder"],
        metadata: { visit: "A-17" },
      } satisfies Schema<"SendMessage">;
      const idempotencyKey = crypto.randomUUID();
      const sent = await relay.POST("/v1/messages", { body, params: { header: { "idempotency-key": idempotencyKey } } });
      expect(sent.response.status).toBe(202);
      expect(sent.error).toBeUndefined();
      const accepted = sent.data!;
      expectTypeOf(accepted.status).toEqualTypeOf<"queued" | "failed">();
      expect(accepted.id).toMatch(/^msg_/);
      expect(accepted.status).toBe("queued");
      expect(accepted.message_id).toMatch(/^<.+@.+>$/);
      expect(accepted.recipients.map((r) => [r.email, r.status]).sort()).toEqual([
        ["nurse@example.net", "queued"],
        ["pat@example.net", "queued"],
      ]);
      const again = await relay.POST("/v1/messages", { body, params: { header: { "idempotency-key": idempotencyKey } } });
      expect(again.data?.id).toBe(accepted.id);
      expect(again.response.headers.get("idempotent-replayed")).toBe("true");

      // messages.get until the sandbox provider has it.
      const done = await pollUntilSettled(relay, accepted.id);
      expect(done.status).toBe("sent");
      expect(done.id).toBe(accepted.id);
      expect(done.message_id).toBe(accepted.message_id);
      expect(done.tags).toEqual(["reminder"]);
      expect(done.metadata).toEqual({ visit: "A-17" });
      expect(done.recipients.map((r) => [r.email, r.kind, r.status, r.provider_id]).sort()).toEqual([
        ["nurse@example.net", "cc", "sent", ws.providerId],
        ["pat@example.net", "to", "sent", ws.providerId],
      ]);
      expect(done.recipients.every((r) => r.sent_at !== null && r.bounce === null)).toBe(true);
      expect(done.attempts).toHaveLength(1);
      expect(done.attempts[0]).toMatchObject({ provider_id: ws.providerId, outcome: "sent" });
      expect(done.processed_at).not.toBeNull();

      // messages.list, filtered by status and tag, one page at a time.
      const second = await relay.POST("/v1/messages", { body: { ...body, subject: "Second" } });
      await pollUntilSettled(relay, second.data!.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await relay.GET("/v1/messages", { params: { query: { status: "sent", tag: "reminder", limit: 1, cursor } } });
        expect(page.error).toBeUndefined();
        expect(page.data!.data.length).toBeLessThanOrEqual(1);
        for (const m of page.data!.data) {
          expect(m.status).toBe("sent");
          expect(m.from).toContain(`noreply@${ws.domain}`);
          seen.push(m.id);
        }
        cursor = page.data!.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([second.data!.id, accepted.id]);

      // A typed error: the closed ErrorCode set.
      const missing = await relay.GET("/v1/messages/{id}", { params: { path: { id: "msg_doesnotexist" } } });
      expect(missing.response.status).toBe(404);
      expectTypeOf(missing.error!.error.code).toEqualTypeOf<Schema<"ErrorCode">>();
      expect(missing.error?.error.code).toBe("not_found");

      // webhooks.list: the endpoint, without its secret.
      const listed = await relay.GET("/v1/webhooks");
      expect(listed.data!.data.map((e) => [e.id, e.url, e.enabled])).toEqual([[endpoint.id, url, true]]);
      expect(listed.data!.data[0]!.secret).toBeUndefined();

      // webhooks.listEvents: each message's queued event and one sent event per recipient (two
      // messages, two recipients each), delivered, each signed.
      const deadline = Date.now() + 8000;
      let events: Schema<"WebhookEvent">[] = [];
      while (Date.now() < deadline) {
        const page = await relay.GET("/v1/webhooks/{id}/events", { params: { path: { id: endpoint.id }, query: { status: "delivered", limit: 100 } } });
        events = page.data!.data;
        if (events.length >= 6) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seenEvents = events.map((e) => {
        const data = (e.payload as { data: { message_id: string; recipient?: string } }).data;
        return [e.type, data.message_id, data.recipient ?? ""].join(" ");
      });
      const expected = [accepted.id, second.data!.id].flatMap((id) => [`message.queued ${id} `, `message.sent ${id} nurse@example.net`, `message.sent ${id} pat@example.net`]);
      expect(seenEvents.sort()).toEqual(expected.sort());
      for (const e of events) {
        expect(e.status).toBe("delivered");
        expect(e.last_status_code).toBe(200);
        expect(e.payload).toMatchObject({ type: e.type, sequence: expect.any(Number) });
      }
      const receiver = new Webhook(endpoint.secret!);
      const calls = hooks.calls.filter((c) => c.url === url);
      expect(calls.length).toBeGreaterThanOrEqual(6);
      for (const c of calls) {
        const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, c.headers.get(h) ?? ""]));
        expect(receiver.verify(c.body, headers)).toEqual(JSON.parse(c.body));
      }
    } finally {
      hooks.restore();
    }
  });

  it("sends the API key as a bearer credential, and a wrong key is a typed 401", async () => {
    const ws = await createWorkspace({ provider: null });
    const me = await clientFor(ws).GET("/v1/me");
    expect(me.data).toMatchObject({ workspace_id: ws.id });
    const wrong = await createRelayClient({ baseUrl: "https://relay.test", apiKey: "rk_wrong", fetch: (req) => SELF.fetch(req) }).GET("/v1/me");
    expect(wrong.response.status).toBe(401);
    expect(wrong.error?.error.code).toBe("unauthorized");
  });
});
