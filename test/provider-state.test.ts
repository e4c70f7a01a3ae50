import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { DEFAULT_BREAKER_CONFIG } from "../core/routing/breaker";
import type { ProviderStateData } from "../core/routing/provider-state";
import { getProviderState, type ProviderEffects } from "../durable-objects/provider-state";
import { createWorkspace } from "./helpers";

const cfg = { ...DEFAULT_BREAKER_CONFIG, open_seconds: 1 };

describe("ProviderState Durable Object", () => {
  it("never grants more than 10 half-open trials to 50 concurrent callers", async () => {
    const { id: ws, providerId: prv } = await createWorkspace();
    const stub = getProviderState(env, ws, prv);
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws, prv, cfg);
      if (!g.allowed) throw new Error("refused while closed");
      await stub.release(ws, prv, cfg, g, "failure", 10);
    }
    expect((await stub.snapshot(ws, prv)).state).toBe("open");
    await new Promise((r) => setTimeout(r, 1100));
    const grants = await Promise.all(Array.from({ length: 50 }, () => stub.acquire(ws, prv, cfg)));
    expect(grants.filter((g) => g.allowed)).toHaveLength(10);
    expect(grants.every((g) => !g.allowed || g.permit === "trial")).toBe(true);
  });

  it("a cancelled permit frees its half-open trial and counts no outcome", async () => {
    const { id: ws, providerId: prv } = await createWorkspace();
    const stub = getProviderState(env, ws, prv);
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws, prv, cfg);
      if (g.allowed) await stub.release(ws, prv, cfg, g, "failure", 10);
    }
    await new Promise((r) => setTimeout(r, 1100));
    const grants = await Promise.all(Array.from({ length: 10 }, () => stub.acquire(ws, prv, cfg)));
    expect(grants.every((g) => g.allowed)).toBe(true);
    expect((await stub.acquire(ws, prv, cfg)).allowed).toBe(false); // all 10 trials out
    const g = grants[0]!;
    if (!g.allowed) throw new Error("unreachable");
    await stub.cancel(ws, prv, g);
    const snap = await stub.snapshot(ws, prv);
    expect(snap).toMatchObject({ state: "half_open", inFlight: 9 });
    expect((await stub.acquire(ws, prv, cfg)).allowed).toBe(true); // its trial slot is free again
  });

  it("its alarm moves an open breaker to half-open, and transitions are mirrored to D1", async () => {
    const { id: ws, providerId } = await createWorkspace();
    const stub = getProviderState(env, ws, providerId);
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws, providerId, cfg);
      if (g.allowed) await stub.release(ws, providerId, cfg, g, "failure", 10);
    }
    const row = await env.DB.prepare("select state, workspace_id from circuit_breakers where provider_id = ?").bind(providerId).first<{ state: string; workspace_id: string }>();
    expect(row).toEqual({ state: "open", workspace_id: ws });
    // Nobody calls the object: its own alarm moves it to half-open and mirrors that to D1.
    await new Promise((r) => setTimeout(r, 1500));
    await runDurableObjectAlarm(stub); // in case the runtime has not fired it yet
    const after = await env.DB.prepare("select state from circuit_breakers where provider_id = ?").bind(providerId).first<{ state: string }>();
    expect(after?.state).toBe("half_open");
  });

  it("tracks calls in flight and a latency average for least-loaded routing", async () => {
    const ws = `ws_${crypto.randomUUID()}`;
    const stub = getProviderState(env, ws, "prv_z");
    const a = await stub.acquire(ws, "prv_z", cfg);
    const b = await stub.acquire(ws, "prv_z", cfg);
    expect((await stub.currentLoad()).inFlight).toBe(2);
    if (a.allowed) await stub.release(ws, "prv_z", cfg, a, "success", 100);
    if (b.allowed) await stub.release(ws, "prv_z", cfg, b, "neutral", 200);
    const load = await stub.currentLoad();
    expect(load.inFlight).toBe(0);
    expect(load.latencyMs).toBe(120); // 100, then 0.8·100 + 0.2·200
    expect((await stub.snapshot(ws, "prv_z")).consecutiveFailures).toBe(0); // neutral is not a failure
  });

  it("a transition D1 did not take stays recorded in the object and is announced by its alarm, once", async () => {
    const { id: ws, providerId } = await createWorkspace();
    const stub = getProviderState(env, ws, providerId);
    type WithEffects = { effects: ProviderEffects };
    // D1 unreachable for the announcement only: swap the object's effects for one that fails.
    const real = await runInDurableObject(stub, (o) => {
      const e = (o as unknown as WithEffects).effects;
      (o as unknown as WithEffects).effects = { ...e, announce: async () => false };
      return e;
    });
    for (let i = 0; i < 5; i++) {
      const g = await stub.acquire(ws, providerId, cfg);
      if (g.allowed) await stub.release(ws, providerId, cfg, g, "failure", 10);
    }
    const mirror = () => env.DB.prepare("select state from circuit_breakers where provider_id = ?").bind(providerId).first<{ state: string }>();
    expect(await mirror()).toBeNull();
    const stored = await runInDurableObject(stub, async (_o, state) => ({ s: await state.storage.get<ProviderStateData>("s"), alarm: await state.storage.getAlarm() }));
    expect(stored.s!.unannounced!.map((t) => t.to)).toEqual(["open"]);
    expect(stored.alarm).toBeLessThanOrEqual(Date.now() + 5_000); // brought forward from the end of the open period

    await runInDurableObject(stub, (o) => void ((o as unknown as WithEffects).effects = real));
    await runDurableObjectAlarm(stub);
    expect((await mirror())?.state).toBe("open");
    const after = await runInDurableObject(stub, async (_o, state) => ({ s: await state.storage.get<ProviderStateData>("s"), alarm: await state.storage.getAlarm() }));
    expect(after.s!.unannounced).toBeUndefined();
    expect(after.alarm).toBe(after.s!.breaker.openUntil); // back to waiting for the open period's end
  });
});
