import { describe, expect, it } from "vitest";
import { acquire, DEFAULT_BREAKER_CONFIG as cfg, initialBreaker, record, tick, type BreakerState } from "./breaker";
import { messageWaitsOn, moreToRelease, pinnedProvider, pinTo, RELEASE_PAGE, releaseDue, releaseLimit, waitsOn } from "./release";

const t0 = 1_800_000_000_000;

function failures(s: BreakerState, n: number, now: number): BreakerState {
  for (let i = 0; i < n; i++) {
    const a = acquire(s, cfg, now);
    if (!a.allowed) throw new Error("refused");
    s = record(a.state, cfg, a.permit, "failure", now, now).state;
  }
  return s;
}

describe("releasing deferred messages when their provider recovers", () => {
  it("half-opening releases as many as it has trials; closing releases the rest, a page at a time (fake clock)", () => {
    const open = failures(initialBreaker(t0), 5, t0);
    // Messages deferred at t0 on a 60 s backoff would wait until t0 + 60 s + their own backoff;
    // the release happens at the transition itself.
    const half = tick(open, t0 + 60_000);
    expect(releaseDue(half.transitions)).toBe(true);
    expect(releaseLimit(half.state.state, cfg.half_open_max_trials)).toBe(10);
    expect(moreToRelease(half.state.state, 10, 10)).toBe(false); // the rest wait for the close

    let s = half.state;
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = acquire(s, cfg, t0 + 60_000 + i);
      if (!a.allowed) throw new Error("refused");
      s = a.state;
      starts.push(t0 + 60_000 + i);
    }
    let closed = { state: s, transitions: [] as ReturnType<typeof tick>["transitions"] };
    for (const st of starts) closed = record(closed.state, cfg, "trial", "success", t0 + 61_000, st);
    expect(closed.state.state).toBe("closed");
    expect(releaseDue(closed.transitions)).toBe(true);
    expect(releaseLimit("closed", 10)).toBe(RELEASE_PAGE);
    expect(moreToRelease("closed", RELEASE_PAGE, RELEASE_PAGE)).toBe(true);
    expect(moreToRelease("closed", 3, RELEASE_PAGE)).toBe(false);
  });

  it("opening, or no transition, releases nothing", () => {
    const opened = record(failures(initialBreaker(t0), 4, t0), cfg, "normal", "failure", t0, t0);
    expect(releaseDue(opened.transitions)).toBe(false);
    expect(releaseDue([])).toBe(false);
    expect(releaseLimit("open", 10)).toBe(0);
  });

  it("a message waits on its one provider, or on any when its groups had several", () => {
    expect(waitsOn(["prv_a"])).toBe("prv_a");
    expect(waitsOn(["prv_a", "prv_b"])).toBe("*");
    expect(messageWaitsOn([{ retryAt: t0 + 60_000, waitingOn: "prv_a" }], t0)).toBe("prv_a");
    expect(messageWaitsOn([{ retryAt: t0 + 60_000, waitingOn: "prv_a" }, { retryAt: t0 + 5000, waitingOn: "prv_b" }], t0)).toBe("*");
    expect(messageWaitsOn([{ retryAt: t0, waitingOn: "prv_a" }], t0)).toBeNull(); // immediate resend
    expect(messageWaitsOn([{}], t0)).toBeNull();
  });

  it("a pin names the one provider a message must go back to", () => {
    expect(pinnedProvider(pinTo("prv_a"))).toBe("prv_a");
    expect(pinnedProvider("prv_a")).toBeNull();
    expect(pinnedProvider("*")).toBeNull();
    expect(pinnedProvider(null)).toBeNull();
  });
});
