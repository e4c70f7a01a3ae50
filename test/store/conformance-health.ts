// Conformance: the health group (db/store/health.ts). The breaker mirror is one row per provider
// that another workspace cannot overwrite; recorded checks prune only the probed provider's older
// checks; the latest check per provider is the newest (ties: one, deterministically); reads see
// only the workspace's providers; the job's work list is every workspace's enabled providers.
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import type { BreakerState } from "../../db/store/health";
import { open, type BackendFactory } from "./conformance-support";
import { breakerRow, checkRows, seedCheck } from "./seed-providers";

const breaker = (over: Partial<BreakerState> = {}): BreakerState => ({
  state: "open",
  consecutiveFailures: 5,
  window: [],
  openedAt: 1_000,
  openUntil: 31_000,
  trials: [],
  halfOpenSuccesses: 0,
  changedAt: 1_000,
  lastFailureAt: 999,
  ...over,
});

const check = (workspaceId: string, providerId: string, status: "healthy" | "degraded" | "unhealthy", checkedAt: number) => ({
  id: newId("hc"),
  providerId,
  workspaceId,
  status,
  latencyMs: 12,
  detail: status === "healthy" ? null : "probe said no",
  checkedAt,
});

export function healthConformance(backend: BackendFactory): void {
  describe("health: the breakers' mirror", () => {
    it("writes the provider's row, then replaces it; another workspace's write for the provider id leaves it alone", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const p = await seed.provider(ws, { type: "mailgun" });
      await store.health.recordBreakerState(ws, p, breaker());
      expect(await breakerRow(exec, p)).toEqual({ workspaceId: ws, state: "open", failureCount: 5, successCount: 0, lastFailureAt: 999, stateChangedAt: 1_000 });
      await store.health.recordBreakerState(ws, p, breaker({ state: "half_open", consecutiveFailures: 0, halfOpenSuccesses: 2, changedAt: 40_000, lastFailureAt: null }));
      const halfOpen = { workspaceId: ws, state: "half_open", failureCount: 0, successCount: 2, lastFailureAt: null, stateChangedAt: 40_000 };
      expect(await breakerRow(exec, p)).toEqual(halfOpen);
      await store.health.recordBreakerState(other, p, breaker({ state: "closed", changedAt: 50_000 }));
      expect(await breakerRow(exec, p)).toEqual(halfOpen);
    });
  });

  describe("health: checks", () => {
    it("records results and prunes each probed provider's older checks only; an unprobed provider keeps its own", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await seed.provider(ws, { type: "mailgun" });
      const b = await seed.provider(other, { type: "smtp" });
      const idle = await seed.provider(ws, { type: "gmail" });
      const now = 10_000_000;
      await seedCheck(exec, ws, a, "unhealthy", now - 5_000); // older than the cut: pruned
      await seedCheck(exec, ws, a, "degraded", now - 1_000); // kept
      await seedCheck(exec, other, b, "unhealthy", now - 9_000); // pruned
      await seedCheck(exec, ws, idle, "unhealthy", now - 9_000); // not probed: kept
      await store.health.recordChecks([check(ws, a, "healthy", now), check(other, b, "degraded", now)], now - 2_000);
      expect(await checkRows(exec, a)).toEqual([
        ["healthy", now],
        ["degraded", now - 1_000],
      ]);
      expect(await checkRows(exec, b)).toEqual([["degraded", now]]);
      expect(await checkRows(exec, idle)).toEqual([["unhealthy", now - 9_000]]);
      await store.health.recordChecks([], now);
    });

    it("records more results than one transaction takes (60), every one of them", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const providers = await Promise.all(Array.from({ length: 6 }, () => seed.provider(ws, { type: "sandbox" })));
      const rows = Array.from({ length: 60 }, (_, i) => check(ws, providers[i % 6]!, "healthy", 1_000_000 + i));
      await store.health.recordChecks(rows, 0);
      const counts = await Promise.all(providers.map(async (p) => (await checkRows(exec, p)).length));
      expect(counts).toEqual([10, 10, 10, 10, 10, 10]);
    });

    it("latest: the newest check of each given provider of the workspace; a tie resolved by id; others' providers absent", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await seed.provider(ws, { type: "mailgun" });
      const b = await seed.provider(ws, { type: "smtp" });
      const never = await seed.provider(ws, { type: "gmail" });
      const foreign = await seed.provider(other, { type: "mailgun" });
      await seedCheck(exec, ws, a, "unhealthy", 1_000);
      await seedCheck(exec, ws, a, "healthy", 2_000);
      await seedCheck(exec, ws, b, "degraded", 3_000, "hc_0000tie");
      await seedCheck(exec, ws, b, "unhealthy", 3_000, "hc_zzzztie");
      await seedCheck(exec, other, foreign, "healthy", 4_000);
      const got = await store.health.latest(ws, [a, b, never, foreign]);
      expect([...got.keys()].sort()).toEqual([a, b].sort());
      expect(got.get(a)).toEqual({ id: expect.any(String), providerId: a, workspaceId: ws, status: "healthy", latencyMs: 7, detail: "seeded", checkedAt: 2_000 });
      expect(got.get(b)).toMatchObject({ id: "hc_zzzztie", status: "unhealthy" });
      expect((await store.health.latest(other, [a, foreign])).get(foreign)?.checkedAt).toBe(4_000);
      expect((await store.health.latest(other, [a])).size).toBe(0);
      expect(await store.health.latest(ws, [])).toEqual(new Map());
    });

    it("routingHealth: the latest checks and the workspace's breaker mirrors, nothing of another workspace", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await seed.provider(ws, { type: "mailgun" });
      const b = await seed.provider(ws, { type: "smtp" });
      const foreign = await seed.provider(other, { type: "smtp" });
      await seedCheck(exec, ws, a, "unhealthy", 5_000);
      await seedCheck(exec, other, foreign, "unhealthy", 5_000);
      await store.health.recordBreakerState(ws, b, breaker({ state: "half_open", changedAt: 6_000 }));
      await store.health.recordBreakerState(other, foreign, breaker({ state: "open", changedAt: 7_000 }));
      const got = await store.health.routingHealth(ws, [a, b, foreign]);
      expect([...got.checks.keys()]).toEqual([a]);
      expect(got.checks.get(a)).toMatchObject({ status: "unhealthy", checkedAt: 5_000 });
      expect(got.breakers).toEqual(new Map([[b, { state: "half_open", changedAt: 6_000 }]]));
      expect(await store.health.routingHealth(ws, [])).toEqual({ checks: new Map(), breakers: new Map() });
    });

    it("enabledProvidersEverywhere (cross-tenant): every workspace's enabled providers, never a disabled one", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await seed.provider(ws, { type: "mailgun", config: { domain: "mg.example" } });
      const b = await seed.provider(other, { type: "smtp" });
      const off = await seed.provider(ws, { type: "gmail", status: "disabled" });
      const all = await store.health.enabledProvidersEverywhere();
      const ids = new Set(all.map((p) => p.id));
      expect(ids.has(a) && ids.has(b)).toBe(true);
      expect(ids.has(off)).toBe(false);
      expect(all.every((p) => p.status === "enabled")).toBe(true);
      expect(all.find((p) => p.id === a)).toMatchObject({ workspaceId: ws, type: "mailgun", config: { domain: "mg.example" }, baaCovered: false });
    });
  });
}
