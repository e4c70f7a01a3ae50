// Layered limits: user (refuse at accept), workspace and global (defer, then send with no human
// action), all-or-nothing and keyed by message id.
import { describe, expect, it } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { runDelivery } from "../workers/dispatcher/pipeline";
import { soloContext } from "../workers/dispatcher/batch-context";
import { globalShardRules } from "../core/limits/config";
import { getGlobalLimiter } from "../durable-objects/global-limiter";
import { getProviderState } from "../durable-objects/provider-state";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";

const setLimits = async (ws: TestWorkspace, limits: Record<string, unknown>) => {
  const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { limits } });
  expect(res.status, await res.clone().text()).toBe(200);
};
const send = (ws: TestWorkspace, key = ws.key, extra: Record<string, unknown> = {}) => api("/v1/messages", { method: "POST", key, json: message(ws, extra) });

describe("user limit (refused at accept)", () => {
  it("the fourth send over a limit of 3 is 429 with a Retry-After to the next window; other users and workspaces are unaffected", async () => {
    const ws = await createWorkspace();
    await setLimits(ws, { user_daily: 3 });
    const sender = await ws.keyWith(["send"]);
    for (let i = 0; i < 3; i++) expect((await send(ws, sender)).status).toBe(202);
    const refused = await send(ws, sender);
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe("rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);
    expect(Math.abs(Date.now() + retryAfter * 1000 - midnight)).toBeLessThan(5000);

    expect((await send(ws, await ws.keyWith(["send"]))).status).toBe(202); // another user
    const other = await createWorkspace();
    await setLimits(other, { user_daily: 3 });
    expect((await send(other)).status).toBe(202);
  });

  it("a per-user override raises one user's limit", async () => {
    const ws = await createWorkspace();
    const power = await ws.keyWith(["send"]);
    const keyId = (await json(await api("/v1/me", { key: power }))).key_id;
    await setLimits(ws, { user_daily: 1, user_overrides: { [keyId]: 3 } });
    for (let i = 0; i < 3; i++) expect((await send(ws, power)).status).toBe(202);
    expect((await send(ws, power)).status).toBe(429);
  });

  it("counts recipients, and a refused message consumes nothing", async () => {
    const ws = await createWorkspace();
    await setLimits(ws, { user_daily: 3 });
    expect((await send(ws, ws.key, { to: ["a@example.net", "b@example.net", "c@example.net", "d@example.net"] })).status).toBe(429);
    expect((await send(ws, ws.key, { to: ["a@example.net", "b@example.net", "c@example.net"] })).status).toBe(202);
  });

  it("200 concurrent accepts against a limit of 100: exactly 100 allowed, 100 refused", async () => {
    const ws = await createWorkspace();
    await setLimits(ws, { user_daily: 100 });
    const results = await Promise.all(Array.from({ length: 200 }, () => send(ws)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100);
    // The hundred accepted go out in the background at the relay's burst limit (100/s): let them,
    // or the next test's deliveries in this file meet that limit instead of their workspace's.
    const accepted = await Promise.all(results.filter((r) => r.status === 202).map((r) => json(r)));
    for (const m of accepted) await waitForStatus(ws, m.id, ["sent"], 15_000);
  });
});

describe("workspace limit (deferred, then sent)", { timeout: 30_000 }, () => {
  it("limit 5, 8 messages: 5 sent, 3 deferred to the next window; when it opens all 8 are sent", async () => {
    const ws = await createWorkspace();
    await setLimits(ws, { daily: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await json(await send(ws))).id);
    const first = await Promise.all(ids.map((id) => waitForStatus(ws, id, ["sent", "deferred"], 15_000)));
    expect(first.filter((m) => m.status === "sent")).toHaveLength(5);
    const deferred = first.filter((m) => m.status === "deferred");
    expect(deferred).toHaveLength(3);
    const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);
    for (const m of deferred) {
      expect(m.last_error).toContain("workspace's daily limit");
      expect(m.attempt_count).toBe(0);
    }
    const row = await env.DB.prepare("select not_before from messages where id = ?").bind(deferred[0].id).first<{ not_before: number }>();
    expect(row!.not_before).toBe(midnight);
    // Waiting for a window is not an attempt, for the message or its recipients (the claim that
    // ran beside the limit check is taken back).
    const tries = await env.DB.prepare("select attempts, status from message_recipients where message_id = ?").bind(deferred[0].id).all<{ attempts: number; status: string }>();
    expect(tries.results).toEqual([{ attempts: 0, status: "deferred" }]);
    // The deferred messages' provider permits (asked beside the limit check) were handed back.
    expect((await getProviderState(env, ws.id, ws.providerId).snapshot(ws.id, ws.providerId)).inFlight).toBe(0);
    // The holds are visible in /metrics.
    const metrics = await (await api("/metrics", { headers: { authorization: "Bearer test-metrics-token" } })).text();
    expect(metrics).toContain(`relay_limiter_holds_total{workspace="${ws.id}",layer="workspace"} 3`);

    // The window rolls (fake clock): the deferred messages go without anyone touching them.
    const tomorrow = () => midnight + 60_000;
    for (const m of deferred) {
      const outcome = await runDelivery(soloContext(env, tomorrow), { workspaceId: ws.id, messageId: m.id, deliveryId: `job-${m.id}` });
      expect(outcome.kind).toBe("done");
    }
    const all = await Promise.all(ids.map(async (id) => (await json(await api(`/v1/messages/${id}`, { key: ws.key }))).status));
    expect(all).toEqual(Array(8).fill("sent"));
  });

  it("a queue redelivery of the same job does not consume twice", async () => {
    const ws = await createWorkspace();
    await setLimits(ws, { daily: 2 });
    const a = (await json(await send(ws))).id;
    await waitForStatus(ws, a, ["sent"]);
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("relay-delivery", [{ id: `again-${i}`, timestamp: new Date(), attempts: 2, body: { v: 1, workspaceId: ws.id, messageId: a } }]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      await getQueueResult(batch, ctx);
    }
    const b = (await json(await send(ws))).id;
    expect((await waitForStatus(ws, b, ["sent", "deferred"])).status).toBe("sent");
    const c = (await json(await send(ws))).id;
    expect((await waitForStatus(ws, c, ["sent", "deferred"])).status).toBe("deferred");
  });

  it("refuses limit settings that do not validate", async () => {
    const ws = await createWorkspace();
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { limits: { time_zone: "Mars/Olympus" } } })).status).toBe(400);
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { limits: { daily: -1 } } })).status).toBe(400);
  });
});

describe("global limits spread over shards", () => {
  it("never allow more than the limit; the slack from uneven shards stays small", async () => {
    const g = { daily: 100, hourly: 1_000_000, burstPerSecond: 1_000_000, shards: 4 };
    const rules = globalShardRules(g);
    const run = crypto.randomUUID();
    const now = Date.UTC(2031, 0, 1, 12); // a window no other test touches
    let allowed = 0;
    for (let i = 0; i < 400; i++) {
      const key = `${run}-${i}`;
      const d = await getGlobalLimiter(env, key, g.shards).consume(key, rules.map((r) => ({ ...r, name: `${run}:${r.name}` })), 1, now);
      if (d.allowed) allowed++;
    }
    // Each shard allows 25; with 400 keys hashed over 4 shards every shard fills.
    expect(allowed).toBe(100);
  });
});
