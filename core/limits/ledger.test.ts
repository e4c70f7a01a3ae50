import { describe, expect, it } from "vitest";
import { consume, emptyCounters, refund, type LimitRule } from "./ledger";

const t = Date.parse("2026-05-01T10:00:00Z");
const rules: LimitRule[] = [
  { name: "ws:day", kind: "window", period: "day", max: 5 },
  { name: "user:u1:day", kind: "window", period: "day", max: 3 },
];

describe("limiter counters", () => {
  it("is all-or-nothing: a refusal by a later rule consumes nothing from the earlier ones", () => {
    let s = emptyCounters();
    for (let i = 0; i < 3; i++) s = consume(s, rules, 1, t).state;
    const r = consume(s, rules, 1, t);
    expect(r.decision).toMatchObject({ allowed: false, rule: "user:u1:day", retryAt: Date.parse("2026-05-02T00:00:00Z") });
    expect(r.state.counters["ws:day"]!.count).toBe(3);
    expect(r.items).toEqual([]);
  });

  it("refund gives back exactly what a consumption took, and only in the same window", () => {
    let s = emptyCounters();
    const first = consume(s, rules, 2, t);
    s = consume(first.state, rules, 1, t).state;
    s = refund(s, first.items);
    expect(s.counters["ws:day"]!.count).toBe(1);
    const tomorrow = consume(s, rules, 1, t + 86_400_000).state;
    expect(refund(tomorrow, first.items).counters["ws:day"]!.count).toBe(1); // other window: untouched
  });

  it("counts n units at once (recipients of one message)", () => {
    const s = emptyCounters();
    expect(consume(s, rules, 4, t).decision).toMatchObject({ allowed: false, rule: "user:u1:day" });
    expect(consume(s, rules, 3, t).decision.allowed).toBe(true);
  });

  it("refunds a rate rule's tokens", () => {
    const rate: LimitRule[] = [{ name: "r", kind: "rate", perSecond: 10, burst: 1 }];
    const a = consume(emptyCounters(), rate, 1, t);
    expect(consume(a.state, rate, 1, t).decision.allowed).toBe(false);
    expect(consume(refund(a.state, a.items), rate, 1, t).decision.allowed).toBe(true);
  });
});
