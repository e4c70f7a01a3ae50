// Mailgun event webhooks in: signature (good / forged), 5-minute window, replayed tokens, and the
// mapping of delivered / failed / complained / unsubscribed onto the recipient, with the
// customer's webhook event in one format.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { api, json, waitForStatus, type TestWorkspace } from "./helpers";
import { captureWebhooks } from "./inbound-fixtures";
import { accept, mailgunProvider, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const SIGNING_KEY = "key-test-signing-0123456789";

// Independent of the code under test: node:crypto, Mailgun's documented recipe.
function signed(eventData: Record<string, unknown>, opts: { timestamp?: number; token?: string; key?: string } = {}) {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const token = opts.token ?? crypto.randomUUID().replace(/-/g, "");
  const signature = createHmac("sha256", opts.key ?? SIGNING_KEY).update(timestamp + token).digest("hex");
  return { signature: { timestamp, token, signature }, "event-data": eventData };
}

const post = (providerId: string, body: unknown) => api(`/webhooks/mailgun/${providerId}`, { method: "POST", json: body });

async function sentThroughMailgun() {
  const domain = `${uniq("mgw")}.example.org`;
  const ws = await workspaceWith(mailgunProvider(domain));
  const set = await api(`/v1/providers/${ws.providerId}/webhook-signing-key`, { method: "PUT", key: ws.key, json: { signing_key: SIGNING_KEY } });
  expect(set.status).toBe(200);
  const acc = await accept(ws);
  await waitForStatus(ws, acc.id, ["sent"], 10_000);
  return { ws, id: acc.id, mgId: acc.message_id.slice(1, -1) };
}

const event = (mgId: string, e: Record<string, unknown>) => ({ recipient: "patient@example.net", message: { headers: { "message-id": mgId } }, ...e });
const status = async (ws: TestWorkspace, id: string) => (await json(await api(`/v1/messages/${id}`, { key: ws.key }))).recipients[0].status;

describe("Mailgun webhooks", { timeout: 20_000 }, () => {
  it("good signature: delivered, then a permanent failure bounces the recipient; customers get one format", async () => {
    const { ws, id, mgId } = await sentThroughMailgun();
    await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: "https://hooks.test/mg", events: ["message.delivered", "message.bounced"] } });
    const hooks = captureWebhooks("https://hooks.test/");
    try {
      const r1 = await post(ws.providerId, signed(event(mgId, { event: "delivered" })));
      expect(r1.status).toBe(200);
      expect(await json(r1)).toEqual({ status: "processed" });
      expect(await status(ws, id)).toBe("delivered");

      const r2 = await post(ws.providerId, signed(event(mgId, { event: "failed", severity: "permanent", reason: "bounce", "delivery-status": { code: 550, message: "5.1.1 user unknown" } })));
      expect(r2.status).toBe(200);
      expect(await status(ws, id)).toBe("bounced");

      const types = hooks.calls.map((c) => JSON.parse(c.body));
      expect(types.map((t) => t.type)).toEqual(["message.delivered", "message.bounced"]);
      expect(types[1].data).toMatchObject({
        message_id: id,
        recipient: "patient@example.net",
        status: "bounced",
        provider: { id: ws.providerId, type: "mailgun" },
        source: "mailgun",
        bounce: { type: "hard", reason: "userunknown", status: "5.1.1", suppress: true },
      });
    } finally {
      hooks.restore();
    }
  });

  it("a temporary failure is recorded without changing the status; complained suppresses", async () => {
    const { ws, id, mgId } = await sentThroughMailgun();
    expect((await post(ws.providerId, signed(event(mgId, { event: "failed", severity: "temporary" })))).status).toBe(200);
    expect(await status(ws, id)).toBe("sent");
    expect((await post(ws.providerId, signed(event(mgId, { event: "complained" })))).status).toBe(200);
    expect(await status(ws, id)).toBe("complained");
  });

  it("forged, stale and replayed calls are refused and change nothing", async () => {
    const { ws, id, mgId } = await sentThroughMailgun();
    const forged = await post(ws.providerId, signed(event(mgId, { event: "complained" }), { key: "not-the-key-at-all" }));
    expect(forged.status).toBe(401);
    const stale = await post(ws.providerId, signed(event(mgId, { event: "complained" }), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }));
    expect(stale.status).toBe(406);
    expect(await status(ws, id)).toBe("sent");

    const once = signed(event(mgId, { event: "delivered" }));
    expect((await post(ws.providerId, once)).status).toBe(200);
    const replay = await post(ws.providerId, once);
    expect(replay.status).toBe(409);

    // Another provider's id, or one without a signing key, is unknown.
    expect((await post("prv_doesnotexist000000000", signed(event(mgId, { event: "delivered" })))).status).toBe(404);
  });

  it("events for messages that are not ours are acknowledged and ignored", async () => {
    const { ws } = await sentThroughMailgun();
    const res = await post(ws.providerId, signed(event("someone-else@mg.example", { event: "delivered" })));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ignored" });
  });
});
