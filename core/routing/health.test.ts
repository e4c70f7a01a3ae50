import { describe, expect, it } from "vitest";
import { probeExcludes } from "./health";

const t0 = 1_800_000_000_000;
const maxAge = 10 * 60_000;
const unhealthy = { status: "unhealthy" as const, checkedAt: t0 };

describe("a health probe against the breaker", () => {
  it("an unhealthy, recent probe excludes a provider whose breaker has not moved since", () => {
    expect(probeExcludes(unhealthy, undefined, t0 + 1000, maxAge)).toBe(true);
    expect(probeExcludes(unhealthy, { state: "closed", changedAt: t0 - 5000 }, t0 + 1000, maxAge)).toBe(true);
    expect(probeExcludes(unhealthy, { state: "open", changedAt: t0 + 500 }, t0 + 1000, maxAge)).toBe(true);
  });

  it("a half-open breaker gets its trial calls whatever the probe said (the outage case of issue 17)", () => {
    // Probe at t0 during the outage; the breaker opened before it and half-opened 60 s later.
    expect(probeExcludes(unhealthy, { state: "half_open", changedAt: t0 + 60_000 }, t0 + 61_000, maxAge)).toBe(false);
    // Even a probe taken while it was already half-open: trials are better evidence than one probe.
    expect(probeExcludes({ status: "unhealthy", checkedAt: t0 + 70_000 }, { state: "half_open", changedAt: t0 + 60_000 }, t0 + 71_000, maxAge)).toBe(false);
  });

  it("a breaker that closed after the probe (trials succeeded, or a reset) brings the provider back", () => {
    expect(probeExcludes(unhealthy, { state: "closed", changedAt: t0 + 90_000 }, t0 + 91_000, maxAge)).toBe(false);
  });

  it("healthy, degraded or old probes never exclude", () => {
    expect(probeExcludes({ status: "degraded", checkedAt: t0 }, undefined, t0, maxAge)).toBe(false);
    expect(probeExcludes({ status: "healthy", checkedAt: t0 }, undefined, t0, maxAge)).toBe(false);
    expect(probeExcludes(unhealthy, undefined, t0 + maxAge + 1, maxAge)).toBe(false);
    expect(probeExcludes(undefined, { state: "open", changedAt: t0 }, t0, maxAge)).toBe(false);
  });
});
