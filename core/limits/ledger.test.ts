import { describe, expect, it } from "vitest";
import { consume, emptyLedger, refund, type LimitRule } from "./ledger";

const t = Date.parse("2026-05-01T10:00:00Z");
const rules: LimitRule[] = [
  { name: "ws:day", kind: "window", period: "day", max: 5 },
  { name: "user:u1:day", kind: "window", period: "day", max: 3 },
];

describe("limiter ledger", () => {
  it("is all-or-nothing: a refusal by a later rule consumes nothing from the earlier ones", () => {
    let s = emptyLedger();
    for (let i = 0; i < 3; i++) s = consume(s, `m${i}`, rules, 1, t).state;
    const r = consume(s, "m3", rules, 1, t);
    expect(r.decision).toMatchObject({ allowed: false, rule: "user:u1:day", retryAt: Date.parse("2026-05-02T00:00:00Z") });
    expect(r.state.counters["ws:day"]!.count).toBe(3);
  });

  it("the same key never counts twice", () => {
    let s = emptyLedger();
    s = consume(s, "m1", rules, 1, t).state;
    const again = consume(s, "m1", rules, 1, t + 1000);
    expect(again.decision).toEqual({ allowed: true, repeated: true });
    expect(again.state.counters["ws:day"]!.count).toBe(1);
  });

  it("refund gives back exactly what a key took, and only in the same window", () => {
    let s = emptyLedger();
    s = consume(s, "m1", rules, 2, t).state;
    s = consume(s, "m2", rules, 1, t).state;
    s = refund(s, "m1");
    expect(s.counters["ws:day"]!.count).toBe(1);
    expect(consume(s, "m1", rules, 2, t).decision.allowed).toBe(true); // the key can be used again
    expect(refund(s, "unknown")).toBe(s);
  });

  it("counts n units at once (recipients of one message)", () => {
    const s = emptyLedger();
    expect(consume(s, "big", rules, 4, t).decision).toMatchObject({ allowed: false, rule: "user:u1:day" });
    expect(consume(s, "ok", rules, 3, t).decision.allowed).toBe(true);
  });
});
