// The webhook signatures checked by the reference Standard Webhooks library (standardwebhooks),
// as a receiver would: every delivery the relay makes verifies with the endpoint's secret, and
// any tampering (body, id, timestamp, signature, another endpoint's secret) is refused.
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";
import { captureWebhooks, type CapturedHook } from "./inbound-fixtures";

const headersOf = (c: CapturedHook) => ({
  "webhook-id": c.headers.get("webhook-id") ?? "",
  "webhook-timestamp": c.headers.get("webhook-timestamp") ?? "",
  "webhook-signature": c.headers.get("webhook-signature") ?? "",
});

describe("webhook signatures under the reference library", () => {
  it("every delivery verifies; a changed body, id, timestamp or signature, or the wrong secret, is refused", async () => {
    const ws = await createWorkspace();
    const url = `https://receiver.test/${crypto.randomUUID()}`;
    const hooks = captureWebhooks(url);
    try {
      const created = await json(await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events: ["message.queued", "message.sent"] } }));
      const other = await json(await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: `${url}/other`, events: ["message.failed"] } }));
      expect(created.secret).toMatch(/^whsec_/);
      const { id } = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "b@example.net"] }) }));
      await waitForStatus(ws, id, ["sent"]);
      const end = Date.now() + 4000;
      while (hooks.calls.filter((c) => c.url === url).length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const calls = hooks.calls.filter((c) => c.url === url);
      expect(calls.length).toBeGreaterThanOrEqual(3);

      const receiver = new Webhook(created.secret);
      for (const c of calls) {
        const verified = receiver.verify(c.body, headersOf(c)) as { type: string };
        expect(verified).toEqual(JSON.parse(c.body));
      }
      const c = calls[0]!;
      const h = headersOf(c);
      const refused = (body: string, headers: Record<string, string>, hook = receiver) => expect(() => hook.verify(body, headers)).toThrow();
      refused(c.body.replace(id, id.slice(0, -1) + "x"), h);
      refused(c.body, { ...h, "webhook-id": `${h["webhook-id"]}x` });
      refused(c.body, { ...h, "webhook-timestamp": String(Number(h["webhook-timestamp"]) - 1) });
      refused(c.body, { ...h, "webhook-signature": h["webhook-signature"].replace(/v1,(.)/, (_m, ch: string) => `v1,${ch === "A" ? "B" : "A"}`) });
      refused(c.body, h, new Webhook(other.secret));
      // The library's replay window: a timestamp from an hour ago is refused even with a valid signature for it.
      refused(c.body, { ...h, "webhook-timestamp": String(Number(h["webhook-timestamp"]) - 3600) });
    } finally {
      hooks.restore();
    }
  });
});
