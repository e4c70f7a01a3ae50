// Events the accept path and the circuit breakers raise for customer webhooks.
import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { DEFAULT_BREAKER_CONFIG } from "../core/routing/breaker";
import { getProviderState } from "../durable-objects/provider-state";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

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
