// Shared classification for provider health probes: the same SendResult outcomes the senders
// produce, mapped onto health. A probe answers "could a send work right now?", so any failure
// (credentials, configuration, timeouts, 5xx) is unhealthy; a working but slow answer is degraded.
import type { ProbeContext, ProbeResult, SendResult } from "./types";

/** A probe that succeeded but took longer than this is `degraded`. */
export const PROBE_SLOW_MS = 2000;
/** Upper bound for one probe when the caller gives none. */
export const PROBE_DEFAULT_TIMEOUT_MS = 10_000;

export const probeTimeout = (ctx: ProbeContext, providerTimeoutMs: number): number =>
  Math.min(providerTimeoutMs, ctx.timeoutMs ?? PROBE_DEFAULT_TIMEOUT_MS);

export function healthy(latencyMs: number, detail?: string): ProbeResult {
  if (latencyMs > PROBE_SLOW_MS) return { status: "degraded", latencyMs, detail: `slow: ${latencyMs} ms${detail ? `; ${detail}` : ""}` };
  return detail === undefined ? { status: "healthy", latencyMs } : { status: "healthy", latencyMs, detail };
}

export const unhealthy = (latencyMs: number, detail: string): ProbeResult => ({ status: "unhealthy", latencyMs, detail });
export const degraded = (latencyMs: number, detail: string): ProbeResult => ({ status: "degraded", latencyMs, detail });

/** A failed send-style outcome as a probe result; `sent` is not expected here and reads as healthy. */
export function fromOutcome(result: SendResult, latencyMs: number): ProbeResult {
  if (result.status === "sent") return healthy(latencyMs);
  return unhealthy(latencyMs, result.status === "permanent" && result.configuration ? `configuration: ${result.reason}` : result.reason);
}
