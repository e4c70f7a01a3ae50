import { describe, expect, it } from "vitest";
import { checkCounter, checkGcra, tzOffsetMs, windowEnd, windowStart } from "./windows";

const at = (iso: string) => Date.parse(iso);

describe("calendar windows", () => {
  it("UTC days roll over at midnight UTC", () => {
    expect(windowStart(at("2026-03-10T23:59:59Z"), "day")).toBe(at("2026-03-10T00:00:00Z"));
    expect(windowEnd(at("2026-03-10T23:59:59Z"), "day")).toBe(at("2026-03-11T00:00:00Z"));
    expect(windowStart(at("2026-03-11T00:00:00Z"), "day")).toBe(at("2026-03-11T00:00:00Z"));
  });

  it("hours roll over on the hour", () => {
    expect(windowStart(at("2026-03-10T14:37:00Z"), "hour")).toBe(at("2026-03-10T14:00:00Z"));
    expect(windowEnd(at("2026-03-10T14:37:00Z"), "hour")).toBe(at("2026-03-10T15:00:00Z"));
  });

  it("a workspace time zone moves the day boundary", () => {
    // 23:30 UTC is already the next day in Berlin (UTC+1 in winter).
    expect(windowStart(at("2026-01-15T23:30:00Z"), "day", "Europe/Berlin")).toBe(at("2026-01-15T23:00:00Z"));
    expect(windowEnd(at("2026-01-15T22:30:00Z"), "day", "Europe/Berlin")).toBe(at("2026-01-15T23:00:00Z"));
    expect(windowStart(at("2026-01-15T12:00:00Z"), "day", "America/New_York")).toBe(at("2026-01-15T05:00:00Z"));
    expect(tzOffsetMs(at("2026-07-01T00:00:00Z"), "Europe/Berlin")).toBe(2 * 3_600_000);
  });

  it("handles the day a DST change happens", () => {
    // Europe/Berlin springs forward on 2026-03-29: that local day is 23 hours long.
    const start = windowStart(at("2026-03-29T12:00:00Z"), "day", "Europe/Berlin");
    expect(start).toBe(at("2026-03-28T23:00:00Z"));
    expect(windowEnd(at("2026-03-29T12:00:00Z"), "day", "Europe/Berlin")).toBe(at("2026-03-29T22:00:00Z"));
  });

  it("counters reset in a new window and refuse past the limit until it ends", () => {
    const limit = { period: "day" as const, max: 3 };
    let c = undefined as undefined | { windowStart: number; count: number };
    for (let i = 0; i < 3; i++) {
      const r = checkCounter(c, limit, 1, at("2026-03-10T10:00:00Z"));
      if (!r.ok) throw new Error("refused");
      c = r.next;
    }
    expect(checkCounter(c, limit, 1, at("2026-03-10T23:00:00Z"))).toEqual({ ok: false, retryAt: at("2026-03-11T00:00:00Z") });
    expect(checkCounter(c, limit, 1, at("2026-03-11T00:00:01Z")).ok).toBe(true);
  });
});

describe("GCRA burst", () => {
  it("lets a burst through at once, then refills at the rate", () => {
    const now = 1_000_000;
    let tat: number | undefined;
    let allowed = 0;
    for (let i = 0; i < 150; i++) {
      const r = checkGcra(tat, 100, 100, 1, now);
      if (r.ok) {
        tat = r.tat;
        allowed++;
      }
    }
    expect(allowed).toBe(100);
    const refused = checkGcra(tat, 100, 100, 1, now);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAt).toBe(now + 10);
    expect(checkGcra(tat, 100, 100, 1, now + 10).ok).toBe(true);
    // After a full second idle, the whole burst is available again.
    let t2 = tat;
    let again = 0;
    for (let i = 0; i < 150; i++) {
      const r = checkGcra(t2, 100, 100, 1, now + 2000);
      if (r.ok) {
        t2 = r.tat;
        again++;
      }
    }
    expect(again).toBe(100);
  });

  it("a request larger than the burst is admitted when the bucket is full, and then holds the rate", () => {
    const now = 2_000_000;
    // 25 a second, burst 25 (one of four shards of the relay's 100/s): a message to 50 recipients.
    const first = checkGcra(undefined, 25, 25, 50, now);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    // It paid for 50: the next recipient waits until the bucket has room again (after 1 s).
    const next = checkGcra(first.tat, 25, 25, 1, now);
    expect(next.ok).toBe(false);
    if (!next.ok) expect(next.retryAt).toBe(now + 1040);
    // A second large one waits until the bucket is full again (2 s), not for ever.
    const second = checkGcra(first.tat, 25, 25, 50, now + 1000);
    expect(second.ok).toBe(false);
    expect(checkGcra(first.tat, 25, 25, 50, now + 2000).ok).toBe(true);
  });

  it("a state written by a clock far ahead does not block the present", () => {
    const now = 5_000_000;
    expect(checkGcra(now + 86_400_000, 100, 100, 1, now).ok).toBe(true);
  });
});
