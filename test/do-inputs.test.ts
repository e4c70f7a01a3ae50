// Every Durable Object refuses malformed input with an error naming the method and the field
// (core/do-input.ts), and the validation costs little beside the call it guards.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { DEFAULT_BREAKER_CONFIG as cfg } from "../core/routing/breaker";
import { acquireItemsSchema, releaseItemsSchema } from "../core/routing/provider-inputs";
import { consumeItemsSchema } from "../core/limits/inputs";
import type { AcquireItem, ReleaseItem } from "../durable-objects/provider-state";
import { getProviderState } from "../durable-objects/provider-state";
import { getWorkspaceLimiter } from "../durable-objects/workspace-limiter";
import { getGlobalLimiter } from "../durable-objects/global-limiter";
import { getSweeper } from "../durable-objects/sweeper";

const rules = [
  { name: "provider:rate", kind: "rate" as const, perSecond: 10_000, burst: 10_000 },
  { name: "provider:day", kind: "window" as const, period: "day" as const, max: 1_000_000 },
];

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("accepted");
};

describe("Durable Object inputs", () => {
  it("each object refuses a malformed argument with a clear error and keeps its state", async () => {
    const ws = `ws_${crypto.randomUUID()}`;
    const stub = getProviderState(env, ws, "prv_v");
    const bad = { ...cfg, open_seconds: "60" } as unknown as typeof cfg;
    expect(await refusal(stub.acquire(ws, "prv_v", bad))).toMatch(/ProviderState\.acquire: invalid cfg\.open_seconds: /);
    const items: AcquireItem[] = [{ workspaceId: ws, providerId: "prv_v", cfg, quota: null }, { workspaceId: ws, providerId: "prv_v", cfg, quota: { key: "k", rules: [{ name: "x", kind: "window", period: "week" as "day", max: 1 }], n: 1 } }];
    expect(await refusal(stub.acquireMany(items))).toMatch(/ProviderState\.acquireMany: invalid 1\.quota\.rules\.0\.period: /);
    expect((await stub.snapshot(ws, "prv_v")).inFlight).toBe(0); // the valid first item was not granted either
    const grant = { permit: "normal" as const, startedAt: Date.now() };
    expect(await refusal(stub.release(ws, "prv_v", cfg, grant, "maybe" as "success", 5))).toMatch(/ProviderState\.release: invalid outcome: /);
    expect(await refusal(stub.releaseMany([{ workspaceId: ws, providerId: "prv_v", cfg, grant, outcome: "success", latencyMs: Number.NaN }]))).toMatch(/invalid 0\.latencyMs/);
    expect(await refusal(stub.takeoverEvidence("msg_1" as unknown as string[]))).toMatch(/ProviderState\.takeoverEvidence: invalid keys: /);

    const limiter = getWorkspaceLimiter(env, ws);
    expect(await refusal(limiter.consume("m1", rules, -1, "UTC"))).toMatch(/WorkspaceLimiter\.consume: invalid n: /);
    expect(await refusal(limiter.consumeMany([{ key: "m1", rules, n: 1, tz: "", now: Date.now() }]))).toMatch(/WorkspaceLimiter\.consumeMany: invalid 0\.tz: /);
    expect(await refusal(limiter.lease(rules, 1, 0, "UTC", Date.now(), [{ name: "x" } as never]))).toMatch(/WorkspaceLimiter\.lease: invalid returned\.0\.n: /);
    expect(await refusal(limiter.refund(""))).toMatch(/WorkspaceLimiter\.refund: invalid key: /);
    expect((await limiter.consume("m1", rules, 1, "UTC")).allowed).toBe(true); // the object still works

    const global = getGlobalLimiter(env, "m1", 4);
    expect(await refusal(global.consume("m1", [{ name: "g", kind: "rate", perSecond: "fast" } as never], 1))).toMatch(/GlobalLimiter\.consume: invalid rules\.0\./);
    expect(await refusal(global.consumeMany([{ key: "m1", rules, n: 1, tz: "UTC" } as never]))).toMatch(/GlobalLimiter\.consumeMany: invalid 0\.now: /);

    const sweeper = getSweeper(env);
    expect(await refusal(sweeper.claimRun("Retention; DROP", Date.now(), 1000))).toMatch(/Sweeper\.claimRun: invalid job: /);
    expect(await refusal(sweeper.claimHealthRun(Number.NaN, 1000))).toMatch(/Sweeper\.claimRun: invalid now: /);
  });

  it("validating a 50-item batch costs little beside the call (measured, logged)", async () => {
    const ws = `ws_${crypto.randomUUID()}`;
    const now = Date.now();
    const acquires: AcquireItem[] = Array.from({ length: 50 }, (_, i) => ({ workspaceId: ws, providerId: "prv_m", cfg, quota: { key: `provider:msg_${i}`, rules, n: 1 }, leaseMs: 35_000, callKey: `msg_${i}` }));
    const releases: ReleaseItem[] = acquires.map((_, i) => ({
      workspaceId: ws,
      providerId: "prv_m",
      cfg,
      grant: { permit: "normal", startedAt: now, leaseId: crypto.randomUUID() },
      outcome: "success",
      latencyMs: 120,
      report: { key: `msg_${i}`, recipients: [`rcp_${i}`], startedAt: now, sent: true, providerMessageId: `<${i}@mg.example>` },
    }));
    const consumes = acquires.map((_, i) => ({ key: `workspace:msg_${i}`, rules, n: 1, tz: "UTC", now }));
    // workerd's clock stands still between I/O: time many parses around one awaited tick.
    const perBatchUs = async (f: () => unknown, n = 400) => {
      for (let i = 0; i < 50; i++) f(); // warm-up
      await new Promise((r) => setTimeout(r, 1));
      const t = performance.now();
      for (let i = 0; i < n; i++) f();
      await new Promise((r) => setTimeout(r, 1));
      return ((performance.now() - t - 1) * 1000) / n;
    };
    const parse = {
      acquireMany: await perBatchUs(() => acquireItemsSchema.parse(acquires)),
      releaseMany: await perBatchUs(() => releaseItemsSchema.parse(releases)),
      consumeMany: await perBatchUs(() => consumeItemsSchema.parse(consumes)),
    };
    const stub = getProviderState(env, ws, "prv_m");
    await stub.acquireMany(acquires.slice(0, 1));
    const calls = 10;
    const t = performance.now();
    for (let i = 0; i < calls; i++) await stub.acquireMany(acquires.map((a) => ({ ...a, quota: { ...a.quota!, key: `${a.quota!.key}:${i}` } })));
    const callUs = ((performance.now() - t) * 1000) / calls;
    console.log(JSON.stringify({ parse_us_per_50_items: Object.fromEntries(Object.entries(parse).map(([k, v]) => [k, Math.round(v)])), acquireMany_call_us: Math.round(callUs) }));
    // A loose bound (a shared 2-core machine): the parse is well under a millisecond per batch.
    for (const us of Object.values(parse)) expect(us).toBeLessThan(2000);
  });
});
