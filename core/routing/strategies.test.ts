import { describe, expect, it } from "vitest";
import { domainBased, leastLoaded, matchesDomain, roundRobin, seededRng, weighted, byPriority, type Candidate } from "./strategies";

const A: Candidate = { id: "a", priority: 1, weight: 1 };
const B: Candidate = { id: "b", priority: 2, weight: 3 };
const C: Candidate = { id: "c", priority: 3, weight: 0 };
const ids = (cs: Candidate[]) => cs.map((c) => c.id);

describe("routing strategies", () => {
  it("priority: lowest number first", () => {
    expect(ids(byPriority([C, A, B]))).toEqual(["a", "b", "c"]);
  });

  it("round robin: exact rotation across calls", () => {
    expect([0, 1, 2, 3, 4].map((p) => roundRobin([C, B, A], p)[0]!.id)).toEqual(["a", "b", "c", "a", "b"]);
    expect(ids(roundRobin([A, B, C], 1))).toEqual(["b", "c", "a"]);
  });

  it("weighted: proportional to weight over 10,000 seeded draws; weight 0 never first", () => {
    const rng = seededRng(42);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) counts[weighted([A, B, C], rng)[0]!.id]!++;
    expect(counts.c).toBe(0);
    expect(counts.a! / 10_000).toBeGreaterThan(0.23);
    expect(counts.a! / 10_000).toBeLessThan(0.27);
    expect(counts.b! / 10_000).toBeGreaterThan(0.73);
    expect(counts.b! / 10_000).toBeLessThan(0.77);
  });

  it("weighted: the failover order after the choice is by priority", () => {
    expect(ids(weighted([A, B, C], () => 0.9))).toEqual(["b", "a", "c"]);
  });

  it("least loaded: the idle provider, then the faster one", () => {
    const loads = new Map([
      ["a", { inFlight: 3, latencyMs: 50 }],
      ["b", { inFlight: 0, latencyMs: 400 }],
      ["c", { inFlight: 0, latencyMs: 100 }],
    ]);
    expect(ids(leastLoaded([A, B, C], loads))).toEqual(["c", "b", "a"]);
    expect(ids(leastLoaded([A, B], new Map()))).toEqual(["a", "b"]);
  });

  it("domain patterns: exact, wildcard, exact beats wildcard, default, no match", () => {
    const rules = [
      { pattern: "*.nhs.uk", provider_id: "b" },
      { pattern: "gmail.com", provider_id: "c" },
      { pattern: "mail.nhs.uk", provider_id: "a" },
    ];
    expect(domainBased([A, B, C], rules, null, "trust.nhs.uk")[0]!.id).toBe("b");
    expect(domainBased([A, B, C], rules, null, "mail.nhs.uk")[0]!.id).toBe("a");
    expect(domainBased([A, B, C], rules, null, "gmail.com")[0]!.id).toBe("c");
    expect(domainBased([A, B, C], rules, "b", "example.org")[0]!.id).toBe("b");
    expect(domainBased([A, B, C], rules, null, "example.org")[0]!.id).toBe("a");
    // a rule pointing at a provider that is not a candidate (disabled, open) is skipped
    expect(domainBased([A, C], rules, null, "trust.nhs.uk")[0]!.id).toBe("a");
    expect(matchesDomain("*.nhs.uk", "nhs.uk")).toBe(false);
    expect(matchesDomain("*.nhs.uk", "evilnhs.uk")).toBe(false);
  });
});
