// Recovery in seconds (issue 17, part B), end to end through the real queue against the provider
// simulators: what is checked is what leaves the relay (the simulator's request counts and the
// provider each recipient went out through), not the breaker's internal view.
//   - a provider whose breaker half-opened gets trial calls although an earlier probe said unhealthy;
//   - trial permits held by calls that died are reclaimed when their lease (timeout + margin) ends;
//   - messages deferred on a provider are released when its breaker half-opens and closes, not at
//     the retry time fixed when they were deferred;
//   - a recipient whose claim lapsed with a call in flight goes to the same provider again.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { breakerConfigSchema } from "../core/routing/breaker";
import { callLeaseMs } from "../core/routing/leases";
import { deliveryJob } from "../core/jobs";
import { newId } from "../core/ids";
import { getDb } from "../db/client";
import { healthChecks } from "../db/schema";
import { getProviderState } from "../durable-objects/provider-state";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, addProvider, FAST_RETRY, mailgunProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

const setRouting = async (ws: TestWorkspace, routing: Record<string, unknown>) => {
  const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing } });
  expect(res.status, await res.clone().text()).toBe(200);
};

const sentThrough = (detail: { recipients: { provider_id: string | null }[] }) => detail.recipients.map((r) => r.provider_id);
const mailgunCalls = async (domain: string) => (await sim().counts(domain)).mailgun ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two Mailgun providers, priority 1 and 2. */
async function twoMailguns(retry: Record<string, number> = FAST_RETRY) {
  const ws = await createWorkspace({ provider: null });
  await setRetryPolicy(ws, retry);
  const d1 = `${uniq("mg1")}.example.org`;
  const d2 = `${uniq("mg2")}.example.org`;
  const first = await addProvider(ws, mailgunProvider(d1, { priority: 1, name: "first" }));
  const second = await addProvider(ws, mailgunProvider(d2, { priority: 2, name: "second" }));
  return { ws, d1, d2, first, second };
}

describe("recovery in seconds", { timeout: 60_000 }, () => {
  it("a half-open breaker gets trial calls although a probe during the outage said unhealthy", async () => {
    const { ws, d1, first, second } = await twoMailguns();
    await setRouting(ws, { strategy: "priority", breaker: { open_seconds: 1 } });
    // The outage: five real failures open the first provider's breaker (mail fails over)...
    await sim().addFault({ target: "mailgun", scope: d1, status: 503 });
    for (let i = 0; i < 5; i++) expect(sentThrough(await waitForStatus(ws, (await accept(ws)).id, ["sent", "failed"], 15_000))).toEqual([second]);
    expect(await mailgunCalls(d1)).toBe(5);
    // ...and the periodic probe, during the outage, marks it unhealthy (next probe: minutes away).
    await getDb(env.DB).insert(healthChecks).values({ id: newId("hc"), providerId: first, workspaceId: ws.id, status: "unhealthy", latencyMs: 3, detail: "503 during the outage", checkedAt: Date.now() }).run();

    // The provider recovers; after open_seconds its breaker half-opens (its own alarm).
    await sim().clearFaults(d1);
    await sleep(1200);
    await runDurableObjectAlarm(getProviderState(env, ws.id, first));

    const done = await waitForStatus(ws, (await accept(ws)).id, ["sent", "failed"], 15_000);
    expect(sentThrough(done)).toEqual([first]); // a trial call, not the fallback
    expect(await mailgunCalls(d1)).toBe(6);
  });

  it("trial permits held by calls that died are reclaimed when their lease (timeout + margin) ends, not after minutes", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: mailgunProvider(domain) });
    await setRetryPolicy(ws, FAST_RETRY);
    await setRouting(ws, { breaker: { open_seconds: 1 } });
    const cfg = breakerConfigSchema.parse({ open_seconds: 1 });
    const stub = getProviderState(env, ws.id, ws.providerId);
    const t = Date.now();
    // 100 s ago the breaker opened; 40 s ago it was half-open and ten trial calls took every
    // permit, then their Worker was SIGKILLed: none ever reports back.
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws.id, ws.providerId, cfg, null, t - 100_000);
      if (g.allowed) await stub.release(ws.id, ws.providerId, cfg, g, "failure", 10, t - 100_000);
    }
    const lease = callLeaseMs("mailgun", { timeout_ms: 30_000 });
    const dead = await Promise.all(Array.from({ length: 10 }, (_, i) => stub.acquire(ws.id, ws.providerId, cfg, null, t - 40_000, lease, `msg_dead_${i}`)));
    expect(dead.every((g) => g.allowed && g.permit === "trial")).toBe(true);
    expect((await stub.acquire(ws.id, ws.providerId, cfg, null, t - 40_000 + 1000, lease)).allowed).toBe(false); // all ten held
    // Their 35 s leases ended 5 s ago: a new message's call goes out at once.
    const before = await mailgunCalls(domain);
    const done = await waitForStatus(ws, (await accept(ws)).id, ["sent", "failed"], 10_000);
    expect(done.status).toBe("sent");
    expect(sentThrough(done)).toEqual([ws.providerId]);
    expect(await mailgunCalls(domain)).toBe(before + 1);
    expect((await stub.snapshot(ws.id, ws.providerId)).inFlight).toBe(0);
  });

  it("messages deferred on a provider are released when its breaker half-opens and closes, not at the retry time fixed earlier", async () => {
    const domain = `${uniq("mg")}.example.org`;
    // A 5-minute retry: without the release these messages would wait that long after the recovery.
    const ws = await createWorkspace({ provider: mailgunProvider(domain) });
    await setRetryPolicy(ws, { base_seconds: 300, factor: 1, cap_seconds: 300, max_age_seconds: 86_400 });
    const openSeconds = 3;
    await setRouting(ws, { breaker: { open_seconds: openSeconds, consecutive_failures: 1000, failure_rate: 1, min_calls: 12, window_size: 20 } });
    await sim().addFault({ target: "mailgun", scope: domain, status: 503 });
    const ids = await Promise.all(Array.from({ length: 12 }, async () => (await accept(ws)).id));
    const deferred = await Promise.all(ids.map((id) => waitForStatus(ws, id, ["deferred"], 15_000)));
    expect(deferred.every((d) => d.status === "deferred")).toBe(true);
    // Every one failed once and waits out its 5-minute backoff; the twelfth failure opened the breaker.
    expect(await mailgunCalls(domain)).toBe(12);
    const { results } = await env.DB.prepare(`select not_before from messages where id in (${ids.map(() => "?").join(",")})`).bind(...ids).all<{ not_before: number }>();
    expect(results.every((r) => r.not_before > Date.now() + 200_000)).toBe(true);

    await sim().clearFaults(domain);
    const recovered = Date.now();
    // Half-open releases about as many as it has trials; five successes close it, which releases the rest.
    const sent = await Promise.all(ids.map((id) => waitForStatus(ws, id, ["sent", "failed"], (openSeconds + 10) * 1000)));
    expect(sent.every((d) => d.status === "sent")).toBe(true);
    expect(Date.now() - recovered).toBeLessThan((openSeconds + 10) * 1000);
    expect(await mailgunCalls(domain)).toBe(24); // each message once more, none twice
    const listed = (await json(await api("/v1/providers", { key: ws.key }))).data.find((p: { id: string }) => p.id === ws.providerId);
    expect(listed.breaker.state).toBe("closed");
  });

  it("a recipient whose claim lapsed with a call in flight is sent again through the provider it was in flight on", async () => {
    const { ws, d1, d2, second } = await twoMailguns({ base_seconds: 300, factor: 1, cap_seconds: 300, max_age_seconds: 86_400 });
    const cfg = breakerConfigSchema.parse({});
    // A message goes to the second provider (the first is failing), and its consumer is killed mid-call.
    await sim().addFault({ target: "mailgun", scope: d1, status: 503 });
    await sim().addFault({ target: "mailgun", scope: d2, status: 503 });
    const { id } = await accept(ws);
    await waitForStatus(ws, id, ["deferred"], 15_000);
    await sim().clearFaults(d1);
    await sim().clearFaults(d2);
    const t = Date.now();
    // What a kill leaves: the recipient `sending` under a claim taken 10 minutes ago, and the
    // second provider's permit for this message never reported back.
    await env.DB.batch([
      env.DB.prepare(`update message_recipients set status = 'sending', updated_at = ? where message_id = ?`).bind(t - 600_000, id),
      env.DB.prepare(`update messages set status = 'sending', not_before = null, waiting_on = null where id = ?`).bind(id),
    ]);
    await getProviderState(env, ws.id, second).acquire(ws.id, second, cfg, null, t - 600_000, callLeaseMs("mailgun", {}), id);
    const [before1, before2] = [await mailgunCalls(d1), await mailgunCalls(d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(ws.id, id));
    const done = await waitForStatus(ws, id, ["sent"], 10_000);
    expect(sentThrough(done)).toEqual([second]); // not the priority-1 provider
    expect([await mailgunCalls(d1), await mailgunCalls(d2)]).toEqual([before1, before2 + 1]);
  });

  it("...and if that provider's breaker is open, the recipient waits for it (released when it half-opens) instead of failing over", async () => {
    const { ws, d1, d2, second } = await twoMailguns({ base_seconds: 300, factor: 1, cap_seconds: 300, max_age_seconds: 86_400 });
    await sim().addFault({ target: "mailgun", scope: d1, status: 503 });
    await sim().addFault({ target: "mailgun", scope: d2, status: 503 });
    const { id } = await accept(ws);
    await waitForStatus(ws, id, ["deferred"], 15_000);
    await sim().clearFaults(d1);
    await sim().clearFaults(d2);
    const t = Date.now();
    await env.DB.batch([
      env.DB.prepare(`update message_recipients set status = 'sending', updated_at = ? where message_id = ?`).bind(t - 600_000, id),
      env.DB.prepare(`update messages set status = 'sending', not_before = null, waiting_on = null where id = ?`).bind(id),
    ]);
    const stub = getProviderState(env, ws.id, second);
    await stub.acquire(ws.id, second, breakerConfigSchema.parse({}), null, t - 600_000, callLeaseMs("mailgun", {}), id);
    // The provider it was in flight on has its breaker open for the next 2 s.
    const cfg = breakerConfigSchema.parse({ open_seconds: 2 });
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws.id, second, cfg, null);
      if (g.allowed) await stub.release(ws.id, second, cfg, g, "failure", 10);
    }
    const [before1, before2] = [await mailgunCalls(d1), await mailgunCalls(d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(ws.id, id));
    const done = await waitForStatus(ws, id, ["sent"], 12_000);
    expect(sentThrough(done)).toEqual([second]);
    expect([await mailgunCalls(d1), await mailgunCalls(d2)]).toEqual([before1, before2 + 1]);
  });
});
