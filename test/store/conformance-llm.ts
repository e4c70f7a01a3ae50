// Conformance: the llm group (db/store/llm.ts). The token budget is never overspent, not even by
// concurrent reservations; a refused reservation takes nothing; the cache and ledger are the
// workspace's alone; the personalization record is written once.
import { describe, expect, it } from "vitest";
import type { PersonalizationRecord } from "../../db/store/llm";
import { open, openMany, type BackendFactory } from "./conformance-support";
import { personalizationOf, setLlmKey, usageRow } from "./seed-providers";

const record = (over: Partial<PersonalizationRecord> = {}): PersonalizationRecord => ({
  mode: "llm",
  status: "applied",
  reason: null,
  detail: null,
  model: "sim-model",
  cached: false,
  tokens: 321,
  masked: { email: 2 },
  at: "2026-01-02T03:04:05.000Z",
  ...over,
});

const DAY = "2026-01-02";

export function llmConformance(backend: BackendFactory): void {
  describe("llm: key and answer cache", () => {
    it("apiKeyEnc: the workspace's ciphertext, null without one and for another workspace", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      expect(await store.llm.apiKeyEnc(ws)).toBeNull();
      await setLlmKey(exec, ws, "v1:k1:sealed-key");
      expect(await store.llm.apiKeyEnc(ws)).toBe("v1:k1:sealed-key");
      expect(await store.llm.apiKeyEnc(other)).toBeNull();
    });

    it("puts, replaces and gets a cached answer; another workspace's hash is a miss", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const hash = "a".repeat(64);
      expect(await store.llm.cachedAnswer(ws, hash)).toBeNull();
      await store.llm.putCachedAnswer(ws, hash, "v1:k1:first", "m1", 1_000);
      expect(await store.llm.cachedAnswer(ws, hash)).toBe("v1:k1:first");
      await store.llm.putCachedAnswer(ws, hash, "v1:k1:second", "m2", 2_000);
      expect(await store.llm.cachedAnswer(ws, hash)).toBe("v1:k1:second");
      expect(await store.llm.cachedAnswer(other, hash)).toBeNull();
      await store.llm.putCachedAnswer(other, hash, "v1:k1:theirs", "m1", 3_000);
      expect(await store.llm.cachedAnswer(ws, hash)).toBe("v1:k1:second");
    });
  });

  describe("llm: the daily token budget", () => {
    it("reserves within the budget (up to exactly it), refuses beyond it without taking anything", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      expect(await store.llm.usage(ws, DAY)).toEqual({ tokens: 0, calls: 0 });
      expect(await store.llm.reserveTokens(ws, DAY, 101, 100)).toBe(false);
      expect(await usageRow(exec, ws, DAY)).toBeUndefined();
      expect(await store.llm.reserveTokens(ws, DAY, 60, 100)).toBe(true);
      expect(await store.llm.usage(ws, DAY)).toEqual({ tokens: 60, calls: 1 });
      expect(await store.llm.reserveTokens(ws, DAY, 41, 100)).toBe(false);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 60, calls: 1 });
      expect(await store.llm.reserveTokens(ws, DAY, 40, 100)).toBe(true);
      expect(await store.llm.usage(ws, DAY)).toEqual({ tokens: 100, calls: 2 });
      // Another day, another workspace: their own ledgers.
      expect(await store.llm.reserveTokens(ws, "2026-01-03", 100, 100)).toBe(true);
      const other = await seed.workspace();
      expect(await store.llm.usage(other, DAY)).toEqual({ tokens: 0, calls: 0 });
      expect(await store.llm.reserveTokens(other, DAY, 100, 100)).toBe(true);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 100, calls: 2 });
    });

    it("concurrent reservations never overspend together: exactly as many as the budget covers", async () => {
      const { seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const stores = await openMany(backend, 10);
      const results = await Promise.all(stores.map((s) => s.llm.reserveTokens(ws, DAY, 30, 100)));
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 90, calls: 3 });
    });

    it("adjusts a reservation by what the call used, never below zero; another workspace's ledger untouched", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      await store.llm.reserveTokens(ws, DAY, 50, 1_000);
      await store.llm.reserveTokens(other, DAY, 50, 1_000);
      await store.llm.adjustTokens(ws, DAY, 25);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 75, calls: 1 });
      await store.llm.adjustTokens(ws, DAY, -30);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 45, calls: 1 });
      await store.llm.adjustTokens(ws, DAY, -500);
      expect(await usageRow(exec, ws, DAY)).toEqual({ tokens: 0, calls: 1 });
      await store.llm.adjustTokens(ws, DAY, 0);
      expect(await usageRow(exec, other, DAY)).toEqual({ tokens: 50, calls: 1 });
      // No ledger for the day: nothing to adjust, nothing created.
      await store.llm.adjustTokens(ws, "2026-02-02", 10);
      expect(await usageRow(exec, ws, "2026-02-02")).toBeUndefined();
    });
  });

  describe("llm: the personalization record", () => {
    it("is written once: a second record never rewrites it; another workspace's id writes nothing", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { recipients: 1 });
      expect(await personalizationOf(exec, m.id)).toBeNull();
      await store.llm.recordPersonalization(other, m.id, record({ model: "theirs" }));
      expect(await personalizationOf(exec, m.id)).toBeNull();
      await store.llm.recordPersonalization(ws, m.id, record());
      expect(await personalizationOf(exec, m.id)).toEqual(record());
      await store.llm.recordPersonalization(ws, m.id, record({ status: "fallback", reason: "timeout", tokens: 9 }));
      expect(await personalizationOf(exec, m.id)).toEqual(record());
    });
  });
}
