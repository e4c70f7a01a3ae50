// The circuit breaker state machine (spec §5), pure: state in, state out, clock passed in.
// The ProviderState Durable Object persists it and serialises calls; this file decides.
//
//   closed ──(5 consecutive failures, or ≥50% of the last 20 calls failed with ≥10 calls)──▶ open
//   open ──(60 s)──▶ half_open ──(5 trial successes)──▶ closed
//   half_open ──(any trial failure)──▶ open            (at most 10 trials in flight)
//
// Only transient failures count: a permanent failure (bad recipient) means the provider
// answered properly, so for the breaker it is a success.
import { z } from "@hono/zod-openapi";
import { DEFAULT_CALL_LEASE_MS, lease, liveLeases, normalizeLeases, takeLease, type Lease } from "./leases";

export const breakerConfigSchema = z
  .object({
    consecutive_failures: z.number().int().min(1).max(1000).default(5),
    window_size: z.number().int().min(1).max(1000).default(20),
    failure_rate: z.number().min(0.01).max(1).default(0.5),
    min_calls: z.number().int().min(1).max(1000).default(10),
    open_seconds: z.number().int().min(1).max(86_400).default(60),
    half_open_max_trials: z.number().int().min(1).max(1000).default(10),
    half_open_successes: z.number().int().min(1).max(1000).default(5),
  })
  .strict();

export type BreakerConfig = z.infer<typeof breakerConfigSchema>;
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = breakerConfigSchema.parse({});

/**
 * A trial permit not returned by the end of its lease is assumed lost (its caller died). The
 * lease is the provider's call timeout plus a margin (core/routing/leases.ts callLeaseMs), passed
 * by the caller; this is the lease of a caller that does not say.
 */
export const TRIAL_PERMIT_TTL_MS = DEFAULT_CALL_LEASE_MS;

export type BreakerStateName = "closed" | "open" | "half_open";

export interface BreakerState {
  state: BreakerStateName;
  consecutiveFailures: number;
  /** Outcomes of the most recent calls in the closed state, oldest first (true = success). */
  window: boolean[];
  openedAt: number | null;
  /** When an open breaker lets trials through (fixed when it opens, so config changes apply next time). */
  openUntil: number | null;
  /** Trial calls in flight (half-open), each held until its call reports back or its lease ends. */
  trials: Lease[];
  halfOpenSuccesses: number;
  changedAt: number;
  lastFailureAt: number | null;
}

export const initialBreaker = (now: number): BreakerState => ({
  state: "closed",
  consecutiveFailures: 0,
  window: [],
  openedAt: null,
  openUntil: null,
  trials: [],
  halfOpenSuccesses: 0,
  changedAt: now,
  lastFailureAt: null,
});

export interface Transition {
  from: BreakerStateName;
  to: BreakerStateName;
  at: number;
  reason: string;
}

export type Permit = "normal" | "trial";

export type AcquireResult =
  | { allowed: true; permit: Permit; state: BreakerState; transitions: Transition[] }
  | { allowed: false; retryAt: number; state: BreakerState; transitions: Transition[] };

export type CallOutcome = "success" | "failure";

function to(s: BreakerState, next: BreakerStateName, now: number, reason: string, out: Transition[], cfg?: BreakerConfig): BreakerState {
  out.push({ from: s.state, to: next, at: now, reason });
  if (next === "open") {
    const openUntil = now + (cfg ?? DEFAULT_BREAKER_CONFIG).open_seconds * 1000;
    return { ...s, state: "open", openedAt: now, openUntil, trials: [], halfOpenSuccesses: 0, changedAt: now };
  }
  if (next === "half_open") return { ...s, state: "half_open", trials: [], halfOpenSuccesses: 0, changedAt: now };
  return { ...s, state: "closed", consecutiveFailures: 0, window: [], openedAt: null, openUntil: null, trials: [], halfOpenSuccesses: 0, changedAt: now };
}

/** Moves an expired open breaker to half-open (the alarm calls this; acquire does too). */
export function tick(s: BreakerState, now: number): { state: BreakerState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  let state = s;
  if (state.state === "open" && state.openUntil !== null && now >= state.openUntil) {
    state = to(state, "half_open", now, `open for ${Math.round((state.openUntil - (state.openedAt ?? state.openUntil)) / 1000)}s`, transitions);
  }
  if (state.state === "half_open") {
    const live = liveLeases(state.trials, now);
    if (live.length !== state.trials.length) state = { ...state, trials: live };
  }
  return { state, transitions };
}

/**
 * Asks to make a call. Open refuses until its time is up; half-open hands out limited trials,
 * each leased for `leaseMs` (the provider's call timeout plus a margin).
 */
export function acquire(s: BreakerState, cfg: BreakerConfig, now: number, leaseMs: number = TRIAL_PERMIT_TTL_MS): AcquireResult {
  const { state, transitions } = tick(s, now);
  if (state.state === "closed") return { allowed: true, permit: "normal", state, transitions };
  if (state.state === "open") return { allowed: false, retryAt: state.openUntil!, state, transitions };
  if (state.trials.length >= cfg.half_open_max_trials) {
    // Retry once the first trial lease ends (its call answered by then, or it is reclaimed).
    return { allowed: false, retryAt: Math.min(...state.trials.map((t) => t.until)), state, transitions };
  }
  return { allowed: true, permit: "trial", state: { ...state, trials: [...state.trials, lease(now, leaseMs)] }, transitions };
}

/** A breaker as stored by an older version (trial start times without lease ends), made current. */
export function normalizeBreaker(s: BreakerState): BreakerState {
  const trials = s.trials as readonly unknown[];
  return trials.some((t) => typeof t === "number") ? { ...s, trials: normalizeLeases(trials) } : s;
}

/** Records a call's outcome. `startedAt` identifies a trial permit (its acquire time). */
export function record(
  s: BreakerState,
  cfg: BreakerConfig,
  permit: Permit,
  outcome: CallOutcome,
  now: number,
  startedAt: number,
): { state: BreakerState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  let state = s;
  const failed = outcome === "failure";
  if (failed) state = { ...state, lastFailureAt: now };

  if (state.state === "half_open") {
    if (permit !== "trial") return { state, transitions }; // a call from before the breaker opened
    state = { ...state, trials: takeLease(state.trials, startedAt) };
    if (failed) return { state: to(state, "open", now, "trial call failed", transitions, cfg), transitions };
    const successes = state.halfOpenSuccesses + 1;
    if (successes >= cfg.half_open_successes) {
      return { state: to(state, "closed", now, `${successes} trial calls succeeded`, transitions), transitions };
    }
    return { state: { ...state, halfOpenSuccesses: successes }, transitions };
  }

  if (state.state === "open") return { state, transitions }; // late answers change nothing

  const window = [...state.window, !failed].slice(-cfg.window_size);
  const consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
  state = { ...state, window, consecutiveFailures };
  if (!failed) return { state, transitions };
  if (consecutiveFailures >= cfg.consecutive_failures) {
    return { state: to(state, "open", now, `${consecutiveFailures} consecutive failures`, transitions, cfg), transitions };
  }
  const failures = window.filter((ok) => !ok).length;
  if (window.length >= cfg.min_calls && failures / window.length >= cfg.failure_rate) {
    return {
      state: to(state, "open", now, `${failures} of the last ${window.length} calls failed`, transitions, cfg),
      transitions,
    };
  }
  return { state, transitions };
}

/** An operator's reset: closed, counters cleared. */
export function reset(s: BreakerState, now: number): { state: BreakerState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  if (s.state === "closed") return { state: { ...s, consecutiveFailures: 0, window: [] }, transitions };
  return { state: to(s, "closed", now, "reset by an administrator", transitions), transitions };
}
