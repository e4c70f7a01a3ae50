import { describe, expect, it } from "vitest";
import { acquire, DEFAULT_BREAKER_CONFIG as cfg, initialBreaker, normalizeBreaker, record, reset, tick, TRIAL_PERMIT_TTL_MS, type BreakerState } from "./breaker";
import { callLeaseMs } from "./leases";

const t0 = 1_800_000_000_000;

function call(s: BreakerState, outcome: "success" | "failure", now: number): BreakerState {
  const a = acquire(s, cfg, now);
  if (!a.allowed) throw new Error("refused");
  return record(a.state, cfg, a.permit, outcome, now, now).state;
}

function openBreaker(now = t0): BreakerState {
  let s = initialBreaker(now);
  for (let i = 0; i < 5; i++) s = call(s, "failure", now);
  return s;
}

describe("circuit breaker", () => {
  it("opens after 5 consecutive failures, not after 4", () => {
    let s = initialBreaker(t0);
    for (let i = 0; i < 4; i++) s = call(s, "failure", t0);
    expect(s.state).toBe("closed");
    const r = record(s, cfg, "normal", "failure", t0, t0);
    expect(r.state.state).toBe("open");
    expect(r.transitions).toEqual([{ from: "closed", to: "open", at: t0, reason: "5 consecutive failures" }]);
  });

  it("a success resets the consecutive count", () => {
    let s = initialBreaker(t0);
    for (const o of ["failure", "failure", "failure", "failure", "success", "failure", "failure"] as const) s = call(s, o, t0);
    expect(s.state).toBe("closed");
  });

  it("opens at a 50% failure rate over the last 20 calls once 10 calls were seen", () => {
    let s = initialBreaker(t0);
    // alternate: never 5 in a row, but half fail
    for (let i = 0; i < 9; i++) s = call(s, i % 2 ? "failure" : "success", t0);
    expect(s.state).toBe("closed"); // 9 calls: below min_calls
    s = call(s, "failure", t0); // 10 calls, 5 failures
    expect(s.state).toBe("open");
  });

  it("stays closed below the rate over a full window", () => {
    let s = initialBreaker(t0);
    for (let i = 0; i < 40; i++) s = call(s, i % 3 === 0 ? "failure" : "success", t0); // a third fail
    expect(s.state).toBe("closed");
    expect(s.window).toHaveLength(20);
  });

  it("refuses while open and tells when to come back", () => {
    const s = openBreaker();
    const a = acquire(s, cfg, t0 + 59_000);
    expect(a.allowed).toBe(false);
    if (!a.allowed) expect(a.retryAt).toBe(t0 + 60_000);
  });

  it("moves to half-open after 60 s (alarm tick or lazily on acquire)", () => {
    const s = openBreaker();
    expect(tick(s, t0 + 59_999).state.state).toBe("open");
    const t = tick(s, t0 + 60_000);
    expect(t.state.state).toBe("half_open");
    expect(t.transitions[0]).toMatchObject({ from: "open", to: "half_open" });
    const a = acquire(s, cfg, t0 + 60_000);
    expect(a.allowed && a.permit).toBe("trial");
  });

  it("half-open: never more than 10 trials in flight, however many callers", () => {
    let s = tick(openBreaker(), t0 + 60_000).state;
    let granted = 0;
    for (let i = 0; i < 50; i++) {
      const a = acquire(s, cfg, t0 + 60_000 + i);
      s = a.state;
      if (a.allowed) granted++;
    }
    expect(granted).toBe(10);
    expect(s.trials).toHaveLength(10);
  });

  it("half-open closes after 5 trial successes", () => {
    let s = tick(openBreaker(), t0 + 60_000).state;
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = acquire(s, cfg, t0 + 60_000 + i);
      if (!a.allowed) throw new Error("refused");
      s = a.state;
      starts.push(t0 + 60_000 + i);
    }
    for (let i = 0; i < 4; i++) s = record(s, cfg, "trial", "success", t0 + 61_000, starts[i]!).state;
    expect(s.state).toBe("half_open");
    const r = record(s, cfg, "trial", "success", t0 + 61_000, starts[4]!);
    expect(r.state.state).toBe("closed");
    expect(r.transitions[0]).toMatchObject({ from: "half_open", to: "closed" });
  });

  it("half-open reopens on any trial failure, with a fresh open period", () => {
    let s = tick(openBreaker(), t0 + 60_000).state;
    const a = acquire(s, cfg, t0 + 60_500);
    if (!a.allowed) throw new Error("refused");
    s = record(a.state, cfg, "trial", "failure", t0 + 61_000, t0 + 60_500).state;
    expect(s.state).toBe("open");
    expect(s.openedAt).toBe(t0 + 61_000);
    expect(acquire(s, cfg, t0 + 100_000).allowed).toBe(false);
  });

  it("lost trial permits expire so half-open cannot stick", () => {
    let s = tick(openBreaker(), t0 + 60_000).state;
    for (let i = 0; i < 10; i++) s = acquire(s, cfg, t0 + 60_000).state;
    expect(acquire(s, cfg, t0 + 60_001).allowed).toBe(false);
    expect(acquire(s, cfg, t0 + 60_000 + TRIAL_PERMIT_TTL_MS).allowed).toBe(true);
  });

  it("a trial permit held by a call that died is reclaimed when its lease ends: the provider's timeout + margin, not minutes", () => {
    const leaseMs = callLeaseMs("mailgun", { timeout_ms: 30_000 }); // 35 s
    let s = tick(openBreaker(), t0 + 60_000).state;
    // Ten trial calls start, then the Worker making them is killed: none reports back.
    for (let i = 0; i < 10; i++) s = acquire(s, cfg, t0 + 60_000, leaseMs).state;
    const full = acquire(s, cfg, t0 + 60_000 + 1000, leaseMs);
    expect(full.allowed).toBe(false);
    if (!full.allowed) expect(full.retryAt).toBe(t0 + 60_000 + 35_000); // told when the leases end
    expect(acquire(s, cfg, t0 + 60_000 + 34_999, leaseMs).allowed).toBe(false);
    const after = acquire(s, cfg, t0 + 60_000 + 35_000, leaseMs);
    expect(after.allowed && after.permit).toBe("trial");
    expect(after.state.trials).toHaveLength(1); // the ten dead ones are gone, the new one is held
  });

  it("a trial that reports back within its lease frees its slot at once", () => {
    let s = tick(openBreaker(), t0 + 60_000).state;
    for (let i = 0; i < 10; i++) s = acquire(s, cfg, t0 + 60_000 + i, 35_000).state;
    s = record(s, cfg, "trial", "success", t0 + 61_000, t0 + 60_003).state;
    expect(s.trials.map((t) => t.startedAt)).not.toContain(t0 + 60_003);
    expect(acquire(s, cfg, t0 + 61_001, 35_000).allowed).toBe(true);
  });

  it("reads trial start times stored by the older version (two-minute leases)", () => {
    const old = { ...tick(openBreaker(), t0 + 60_000).state, trials: [t0 + 60_000] as unknown as BreakerState["trials"] };
    expect(normalizeBreaker(old).trials).toEqual([{ startedAt: t0 + 60_000, until: t0 + 60_000 + 120_000 }]);
  });

  it("late answers from calls started before opening change nothing", () => {
    const s = openBreaker();
    expect(record(s, cfg, "normal", "success", t0 + 1, t0 - 10).state).toEqual(s);
  });

  it("an administrator's reset closes it", () => {
    const r = reset(openBreaker(), t0 + 5);
    expect(r.state.state).toBe("closed");
    expect(r.transitions).toHaveLength(1);
  });
});
