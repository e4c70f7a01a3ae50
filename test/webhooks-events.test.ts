// Events the accept path and the circuit breakers raise for customer webhooks.
import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { DEFAULT_BREAKER_CONFIG } from "../core/routing/breaker";
import { getProviderState } from "../durable-objects/provider-state";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import { captureWebhooks, type CapturedHook } from "./inbound-fixtures";

const eventsOf = async (workspaceId: string, type: string) =>
  (await env.DB.prepare("select payload from webhook_events where workspace_id = ? and type = ?").bind(workspaceId, type).all<{ payload: string }>()).results.map((r) => JSON.parse(r.payload));

describe("webhook events from accept and breakers", () => {
  it("message.queued for subscribers only; breaker open/close as provider.circuit_*", async () => {
    // Deliveries to the endpoint are not under test here: answer them 200.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    const ws = await createWorkspace();
    const created = await api("/v1/webhooks", {
      method: "POST",
      key: ws.key,
      json: { url: "https://hooks.test/relay", events: ["message.queued", "provider.circuit_opened", "provider.circuit_closed"] },
    });
    expect(created.status).toBe(201);
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    const queued = await eventsOf(ws.id, "message.queued");
    expect(queued).toHaveLength(1);
    expect(JSON.stringify(queued[0])).toContain(sent.id);

    const stub = getProviderState(env, ws.id, ws.providerId);
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws.id, ws.providerId, DEFAULT_BREAKER_CONFIG);
      if (g.allowed) await stub.release(ws.id, ws.providerId, DEFAULT_BREAKER_CONFIG, g, "failure", 5);
    }
    await stub.reset(ws.id, ws.providerId);
    expect(await eventsOf(ws.id, "provider.circuit_opened")).toHaveLength(1);
    expect(JSON.stringify((await eventsOf(ws.id, "provider.circuit_closed"))[0])).toContain(ws.providerId);

    const quiet = await createWorkspace();
    await api("/v1/messages", { method: "POST", key: quiet.key, json: message(quiet) });
    expect(await eventsOf(quiet.id, "message.queued")).toHaveLength(0);
    vi.restoreAllMocks();
  });

  it("delivery events carry the id of the request that accepted the message", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    const ws = await createWorkspace();
    expect((await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: "https://hooks.test/sent", events: ["message.sent"] } })).status).toBe(201);
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) });
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    const { id } = await json(res);
    await waitForStatus(ws, id, ["sent"]);
    // The event is queued by an after-record hook, just after the status is written: wait for it.
    let sent = await eventsOf(ws.id, "message.sent");
    for (let i = 0; i < 50 && sent.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sent = await eventsOf(ws.id, "message.sent");
    }
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0])).toContain(requestId!);
    vi.restoreAllMocks();
  });
});

// What the receiver gets, in the order it gets it.
const received = (calls: CapturedHook[]) => calls.map((c) => JSON.parse(c.body) as { type: string; sequence: number; timestamp: string; data: Record<string, any> });

async function receiver(ws: TestWorkspace, events: string[]) {
  const url = `https://receiver.test/${crypto.randomUUID()}`;
  const hooks = captureWebhooks(url);
  const res = await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events } });
  expect(res.status, await res.clone().text()).toBe(201);
  return hooks;
}

async function until(ok: () => boolean, ms = 3500) {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

const suppress = (workspaceId: string, email: string, status: "bounced" | "complained" | "unsubscribed") =>
  env.DB.prepare("insert into recipients (id, workspace_id, email, status) values (?, ?, ?, ?)").bind(`rcp_${crypto.randomUUID()}`, workspaceId, email, status).run();

describe("the event contract as a receiver sees it", () => {
  it("every event carries a sequence; ordering a message's events by it gives accept before hand-over", async () => {
    const ws = await createWorkspace();
    const hooks = await receiver(ws, ["message.queued", "message.sent"]);
    try {
      const { id } = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "b@example.net"] }) }));
      await waitForStatus(ws, id, ["sent"]);
      await until(() => hooks.calls.length >= 3);
      const got = received(hooks.calls).filter((e) => e.data.message_id === id);
      expect(got.map((e) => e.type).sort()).toEqual(["message.queued", "message.sent", "message.sent"]);
      for (const e of got) {
        expect(Number.isSafeInteger(e.sequence), JSON.stringify(e)).toBe(true);
        // Derived from the time the outcome was recorded, which `timestamp` names.
        expect(Math.floor(e.sequence / 1000)).toBe(Date.parse(e.timestamp));
      }
      const ordered = [...got].sort((x, y) => x.sequence - y.sequence);
      expect(ordered[0]!.type).toBe("message.queued");
      // Two recipients' events of one batch are told apart.
      expect(new Set(got.map((e) => e.sequence)).size).toBe(3);
      // A replay is the same event: the same sequence as the first delivery.
      const listed = await json(await api(`/v1/webhooks/${(await json(await api("/v1/webhooks", { key: ws.key }))).data[0].id}/events`, { key: ws.key }));
      const sent = listed.data.find((e: any) => e.type === "message.sent");
      expect((await api(`/v1/webhook-events/${sent.id}/replay`, { method: "POST", key: ws.key })).status).toBe(202);
      expect(received(hooks.calls).at(-1)!.sequence).toBe(sent.payload.sequence);
    } finally {
      hooks.restore();
    }
  });

  it("a message whose every recipient is suppressed: message.suppressed per recipient, no message.queued", async () => {
    const ws = await createWorkspace();
    await suppress(ws.id, "gone@example.net", "complained");
    await suppress(ws.id, "left@example.net", "unsubscribed");
    const hooks = await receiver(ws, ["*"]);
    try {
      const res = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["gone@example.net", "left@example.net"] }) }));
      expect(res.status).toBe("failed");
      await until(() => hooks.calls.length >= 2);
      await new Promise((r) => setTimeout(r, 300)); // nothing else arrives
      const got = received(hooks.calls).filter((e) => e.data.message_id === res.id);
      expect(got.map((e) => e.type)).toEqual(["message.suppressed", "message.suppressed"]);
      const by = Object.fromEntries(got.map((e) => [e.data.recipient, e.data]));
      expect(by["gone@example.net"]).toMatchObject({ status: "suppressed", reason: "complained", message_status: "failed" });
      expect(by["left@example.net"]).toMatchObject({ status: "suppressed", reason: "unsubscribed", message_status: "failed" });
      // Never queued, so no message.queued is recorded for any endpoint either.
      expect(await eventsOf(ws.id, "message.queued")).toHaveLength(0);
    } finally {
      hooks.restore();
    }
  });

  it("a partly suppressed message: message.queued for what goes, message.suppressed for the dropped address", async () => {
    const ws = await createWorkspace();
    await suppress(ws.id, "bounced@example.net", "bounced");
    const hooks = await receiver(ws, ["message.queued", "message.suppressed"]);
    try {
      const res = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["ok@example.net", "bounced@example.net"] }) }));
      expect(res.status).toBe("queued");
      await until(() => hooks.calls.length >= 2);
      const got = received(hooks.calls).filter((e) => e.data.message_id === res.id).sort((x, y) => x.sequence - y.sequence);
      expect(got.map((e) => e.type)).toEqual(["message.queued", "message.suppressed"]);
      expect(got[0]!.data).toMatchObject({ status: "queued", recipients: 2, queued: 1 });
      expect(got[1]!.data).toMatchObject({ recipient: "bounced@example.net", reason: "bounced" });
    } finally {
      hooks.restore();
    }
  });
});
