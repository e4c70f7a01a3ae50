import { describe, expect, it } from "vitest";
import { IsolateCache, invalidateIsolateCaches } from "./isolate-cache";

describe("isolate cache", () => {
  it("serves an entry until its TTL, then loads again", async () => {
    const cache = new IsolateCache<number>(1000, 10);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.read("a", 0, load)).toBe(1);
    expect(await cache.read("a", 999, load)).toBe(1);
    expect(await cache.read("a", 1000, load)).toBe(2);
    expect(loads).toBe(2);
  });

  it("a configuration write in this isolate drops every entry at once", async () => {
    const cache = new IsolateCache<string>(60_000, 10);
    cache.set("k", "old", 0);
    expect(cache.get("k", 1)).toBe("old");
    invalidateIsolateCaches();
    expect(cache.get("k", 1)).toBeUndefined();
  });

  it("a value loaded across an invalidation is used once but not kept", async () => {
    const cache = new IsolateCache<string>(60_000, 10);
    let release!: (v: string) => void;
    const pending = cache.read("k", 0, () => new Promise<string>((r) => (release = r)));
    invalidateIsolateCaches();
    release("read before the write");
    expect(await pending).toBe("read before the write");
    expect(cache.get("k", 1)).toBeUndefined();
  });

  it("concurrent misses share one load", async () => {
    const cache = new IsolateCache<number>(1000, 10);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return 7;
    };
    const values = await Promise.all(Array.from({ length: 20 }, () => cache.read("x", 0, load)));
    expect(values.every((v) => v === 7)).toBe(true);
    expect(loads).toBe(1);
  });

  it("holds at most maxEntries, dropping the oldest", () => {
    const cache = new IsolateCache<number>(60_000, 3);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, 0);
    expect(cache.get("k0", 1)).toBeUndefined();
    expect(cache.get("k1", 1)).toBeUndefined();
    expect([cache.get("k2", 1), cache.get("k3", 1), cache.get("k4", 1)]).toEqual([2, 3, 4]);
  });

  it("a failed load is not cached", async () => {
    const cache = new IsolateCache<number>(1000, 10);
    await expect(cache.read("f", 0, () => Promise.reject(new Error("d1 down")))).rejects.toThrow("d1 down");
    expect(await cache.read("f", 1, async () => 3)).toBe(3);
  });
});
