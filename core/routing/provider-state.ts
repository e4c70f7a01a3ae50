// One provider's state and every decision on it, pure: its breaker (breaker.ts), its calls in
// flight as leases (leases.ts), its latency average, and what must happen after a change — the
// transitions to announce (the D1 mirror and the customer's webhook events), the deferred
// messages to release (release.ts), when to wake. The ProviderState Durable Object
// (durable-objects/provider-state.ts) is the shell: it validates its input, loads this state,
// calls these functions, persists what they return and hands the recorded effects to the Worker.
import {
  acquire,
  DEFAULT_BREAKER_CONFIG,
  initialBreaker,
  normalizeBreaker,
  record,
  reset,
  tick,
  type BreakerConfig,
  type BreakerState,
  type CallOutcome,
  type Permit,
  type Transition,
} from "./breaker";
import { expireLeases, lease, liveLeases, normalizeLeases, takeLease, type Lease, type Orphan } from "./leases";
import { moreToRelease, releaseDue, releaseLimit } from "./release";
import type { Load } from "./strategies";

export interface ProviderStateData {
  workspaceId: string;
  providerId: string;
  breaker: BreakerState;
  /** Calls in flight (for least-loaded routing and orphan detection); each ends with its report or its lease. */
  inFlight: Lease[];
  /** Calls whose lease ended without a report (their Worker died): the provider may have taken them. */
  orphans?: Orphan[];
  latencyMs: number | null;
  /** The breaker half-opened or closed and the messages deferred on it are not yet all released. */
  releasePending?: boolean;
  /** half_open_max_trials of the last caller's config (the alarm has no config of its own). */
  halfOpenTrials?: number;
  /** Transitions not yet mirrored to D1 and told to the customer's webhooks, oldest first. */
  unannounced?: Transition[];
}

/** A permit as its report names it: `leaseId` picks its own lease (startedAt alone is shared by a batch's calls). */
export interface GrantRef {
  permit: Permit;
  startedAt: number;
  leaseId?: string;
}

export type Grant = { allowed: true; permit: Permit; startedAt: number; leaseId: string } | { allowed: false; retryAt: number; reason: string };

export interface ProviderSnapshot {
  state: BreakerState["state"];
  consecutiveFailures: number;
  recentCalls: number;
  recentFailures: number;
  openedAt: number | null;
  changedAt: number;
  lastFailureAt: number | null;
  inFlight: number;
  latencyMs: number | null;
}

/** A new state and the breaker transitions that led to it (to persist, then announce). */
export interface Change {
  state: ProviderStateData;
  transitions: Transition[];
}

/** Weight of the newest latency sample in the moving average. */
export const EWMA_ALPHA = 0.2;
/** A failed announcement (D1 or webhook events) is tried again this long after, from the alarm. */
export const ANNOUNCE_RETRY_MS = 5_000;
/** Transitions kept for announcing while D1 is unreachable: the newest (the mirror is always the current state). */
export const MAX_UNANNOUNCED = 100;

export const latencyAverage = (previous: number | null, sampleMs: number): number =>
  previous === null ? sampleMs : Math.round((1 - EWMA_ALPHA) * previous + EWMA_ALPHA * sampleMs);

export const initialProviderState = (workspaceId: string, providerId: string, now: number): ProviderStateData => ({
  workspaceId,
  providerId,
  breaker: initialBreaker(now),
  inFlight: [],
  latencyMs: null,
});

/** State written by an older version: lease ends added to trial and in-flight start times. */
export function upgradeProviderState(s: ProviderStateData): ProviderStateData {
  const inFlight = s.inFlight as readonly unknown[];
  const breaker = normalizeBreaker(s.breaker);
  if (breaker === s.breaker && !inFlight.some((x) => typeof x === "number")) return s;
  return { ...s, breaker, inFlight: normalizeLeases(inFlight) };
}

/** Ends the in-flight leases that ran out; the ones with a key are remembered as orphans. */
export function expireCalls(s: ProviderStateData, now: number): ProviderStateData {
  const e = expireLeases(s.inFlight, s.orphans ?? [], now);
  return e.leases.length === s.inFlight.length ? s : { ...s, inFlight: e.leases, orphans: e.orphans };
}

/** The breaker's answer to a call, before the provider's quota is asked. */
export type Admission =
  | (Change & { allowed: false; grant: Extract<Grant, { allowed: false }> })
  | (Change & { allowed: true; permit: Permit });

/**
 * Asks the breaker for a call now (`s` with its leases already expired). Allowed, the call
 * still needs the quota's room: then `grantCall`, or `refuseForQuota` if there is none.
 */
export function admitCall(s: ProviderStateData, cfg: BreakerConfig, now: number, leaseMs: number): Admission {
  const base = s.halfOpenTrials === cfg.half_open_max_trials ? s : { ...s, halfOpenTrials: cfg.half_open_max_trials };
  const a = acquire(base.breaker, cfg, now, leaseMs);
  const state = { ...base, breaker: a.state };
  if (!a.allowed) return { allowed: false, state, transitions: a.transitions, grant: { allowed: false, retryAt: a.retryAt, reason: "circuit breaker open" } };
  return { allowed: true, state, transitions: a.transitions, permit: a.permit };
}

/** The quota had no room: a trial permit just taken is given back (only the last one: others granted in the same instant stay). */
export function refuseForQuota(a: Extract<Admission, { allowed: true }>, retryAt: number): { state: ProviderStateData; grant: Grant } {
  const b = a.state.breaker;
  const state = a.permit === "trial" ? { ...a.state, breaker: { ...b, trials: b.trials.slice(0, -1) } } : a.state;
  return { state, grant: { allowed: false, retryAt, reason: "quota used up" } };
}

/** The call goes ahead: it is in flight, leased for `leaseMs`, under its own `leaseId`. */
export function grantCall(
  a: Extract<Admission, { allowed: true }>,
  now: number,
  leaseMs: number,
  callKey: string | undefined,
  leaseId: string,
): { state: ProviderStateData; grant: Grant } {
  const state = { ...a.state, inFlight: [...a.state.inFlight, lease(now, leaseMs, callKey, leaseId)] };
  return { state, grant: { allowed: true, permit: a.permit, startedAt: now, leaseId } };
}

/** A granted call reported back: its lease ends, its outcome counts (`neutral` as a success), its latency joins the average. */
export function releaseCall(
  s: ProviderStateData,
  cfg: BreakerConfig,
  grant: GrantRef,
  outcome: CallOutcome | "neutral",
  latencyMs: number,
  now: number,
): Change {
  const inFlight = takeLease(s.inFlight, grant.startedAt, grant.leaseId);
  const r = record(s.breaker, cfg, grant.permit, outcome === "neutral" ? "success" : outcome, now, grant.startedAt);
  return { state: { ...s, breaker: r.state, inFlight, latencyMs: latencyAverage(s.latencyMs, latencyMs) }, transitions: r.transitions };
}

/** A permit granted and never used: its lease and its trial slot are freed, no outcome counted. */
export function cancelCall(s: ProviderStateData, grant: GrantRef): ProviderStateData {
  const inFlight = takeLease(s.inFlight, grant.startedAt, grant.leaseId);
  const breaker = grant.permit === "trial" ? { ...s.breaker, trials: takeLease(s.breaker.trials, grant.startedAt) } : s.breaker;
  return { ...s, breaker, inFlight };
}

export const loadOf = (s: ProviderStateData, now: number): Load => ({ inFlight: liveLeases(s.inFlight, now).length, latencyMs: s.latencyMs });

/** Of these call keys, the ones still leased here or whose lease ended without a report. */
export function unreportedOf(s: ProviderStateData, keys: readonly string[], now: number): string[] {
  const e = expireLeases(s.inFlight, s.orphans ?? [], now);
  const seen = new Set([...e.leases.flatMap((l) => (l.key ? [l.key] : [])), ...e.orphans.map((o) => o.key)]);
  return keys.filter((k) => seen.has(k));
}

/** What the API shows; an open breaker whose time is up half-opens first. */
export function snapshotOf(s: ProviderStateData, now: number): Change & { snapshot: ProviderSnapshot } {
  const t = tick(s.breaker, now);
  const b = t.state;
  return {
    state: t.transitions.length ? { ...s, breaker: b } : s,
    transitions: t.transitions,
    snapshot: {
      state: b.state,
      consecutiveFailures: b.consecutiveFailures,
      recentCalls: b.window.length,
      recentFailures: b.window.filter((ok) => !ok).length,
      openedAt: b.openedAt,
      changedAt: b.changedAt,
      lastFailureAt: b.lastFailureAt,
      inFlight: liveLeases(s.inFlight, now).length,
      latencyMs: s.latencyMs,
    },
  };
}

export function resetProvider(s: ProviderStateData, now: number): Change {
  const r = reset(s.breaker, now);
  return { state: { ...s, breaker: r.state }, transitions: r.transitions };
}

/** The alarm's own step: an open breaker whose time is up half-opens; ended leases are reclaimed. */
export function alarmTick(s: ProviderStateData, now: number): Change {
  const t = tick(s.breaker, now);
  return { state: { ...expireCalls(s, now), breaker: t.state }, transitions: t.transitions };
}

/**
 * Records what these transitions call for, in the state itself (so it is persisted with them and
 * none is lost to a crash): they are to be announced, and half-open or closed releases the
 * messages deferred on this provider.
 */
export function noteTransitions(s: ProviderStateData, transitions: readonly Transition[]): ProviderStateData {
  if (transitions.length === 0) return s;
  return {
    ...s,
    unannounced: [...(s.unannounced ?? []), ...transitions].slice(-MAX_UNANNOUNCED),
    ...(releaseDue(transitions) && !s.releasePending ? { releasePending: true } : {}),
  };
}

/** `done` (unannounced transitions, as handed out) were announced; the ones noted since stay. */
export function announced(s: ProviderStateData, done: readonly Transition[]): ProviderStateData {
  const told = new Set(done);
  const rest = (s.unannounced ?? []).filter((t) => !told.has(t));
  const { unannounced: _, ...without } = s;
  return rest.length ? { ...without, unannounced: rest } : without;
}

/** Where the breaker stands after these transitions, told to the customer's webhooks (half-open is not told). */
export function breakerEvents(providerId: string, transitions: readonly Transition[]) {
  return transitions
    .filter((t) => t.to !== "half_open")
    .map((t) => ({
      type: t.to === "open" ? ("provider.circuit_opened" as const) : ("provider.circuit_closed" as const),
      data: { provider: { id: providerId, type: null }, status: t.to, reason: t.reason },
    }));
}

/** When to wake after these transitions: the end of an open period, else now (to release). None without a transition. */
export function alarmOnTransition(s: ProviderStateData, transitions: readonly Transition[], now: number): number | null {
  const last = transitions[transitions.length - 1];
  if (!last) return null;
  return last.to === "open" ? s.breaker.openUntil! : now;
}

/**
 * When to wake after the alarm ran: the next page of releases (or its retry), else a retry of a
 * failed announcement, else the end of an open period.
 */
export function alarmAfter(s: ProviderStateData, now: number, releaseRetryMs: number): number | null {
  if (s.releasePending) return now + releaseRetryMs;
  if (s.unannounced?.length) return now + ANNOUNCE_RETRY_MS;
  if (s.breaker.state === "open" && s.breaker.openUntil !== null) return s.breaker.openUntil;
  return null;
}

/** A release to do now: how many messages at most, and the breaker state it was decided in. */
export interface ReleasePlan {
  limit: number;
  state: BreakerState["state"];
}

/** The release pending, if any (limit 0: nothing to release in this state, only the flag to clear). */
export function releasePlan(s: ProviderStateData): ReleasePlan | null {
  if (!s.releasePending) return null;
  return { state: s.breaker.state, limit: releaseLimit(s.breaker.state, s.halfOpenTrials ?? DEFAULT_BREAKER_CONFIG.half_open_max_trials) };
}

/**
 * After a release of `released` messages under `plan`: pending again if another page is due, or
 * if the breaker moved while D1 and the queue were called (`s` is the state now, not the plan's).
 */
export function afterRelease(s: ProviderStateData, plan: ReleasePlan, released: number): ProviderStateData {
  return { ...s, releasePending: moreToRelease(plan.state, released, plan.limit) || s.breaker.state !== plan.state };
}
