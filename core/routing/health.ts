// Whether a provider's latest health probe still keeps it out of routing, pure.
//
// A probe is one request at one moment; the breaker sees every real send. So the breaker's word
// wins once it has moved on: a breaker that half-opened lets its trial calls through whatever an
// earlier (or later) probe said, and one that closed after the probe (trial calls succeeded, or an
// operator's reset) shows the provider works again. Otherwise an unhealthy probe during an outage
// would keep a recovered provider out until the next probe, minutes later, even though its
// breaker was already asking for trials (an outside fault trial saw a provider kept out for minutes that way). A closed breaker that has not changed since
// the probe leaves the probe in force: that is what probes are for (a provider nobody sends to).
import type { BreakerStateName } from "./breaker";

export interface ProbeView {
  status: "healthy" | "degraded" | "unhealthy";
  checkedAt: number;
}

/** The breaker as mirrored to D1 (circuit_breakers): its state and when it last changed. */
export interface BreakerView {
  state: BreakerStateName;
  changedAt: number;
}

/** True when routing should leave the provider out because of its probe. */
export function probeExcludes(probe: ProbeView | undefined, breaker: BreakerView | undefined, now: number, maxAgeMs: number): boolean {
  if (!probe || probe.status !== "unhealthy" || now - probe.checkedAt > maxAgeMs) return false;
  if (!breaker) return true;
  if (breaker.state === "half_open") return false; // trials decide, not the probe
  if (breaker.state === "closed" && breaker.changedAt > probe.checkedAt) return false; // closed since
  return true;
}
