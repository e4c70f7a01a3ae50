// One Durable Object per provider (named "<workspace id>:<provider id>", so tenants never share
// one): the circuit breaker, in-flight calls and recent latency. The decisions are the pure
// state machine in core/routing/breaker.ts; this class persists its state, serialises callers
// (a DO handles one event at a time, so "at most 10 trials" holds across every Worker), arms
// the alarm that moves open → half-open, and records transitions in D1.
import { DurableObject } from "cloudflare:workers";
import {
  acquire,
  initialBreaker,
  record,
  reset,
  tick,
  TRIAL_PERMIT_TTL_MS,
  type BreakerConfig,
  type BreakerState,
  type CallOutcome,
  type Permit,
  type Transition,
} from "../core/routing/breaker";
import type { Load } from "../core/routing/strategies";
import { getDb } from "../db/client";
import { recordBreakerState } from "../db/breakers";
import { safeErrorMessage } from "../db/errors";
import { log } from "../workers/log";
import type { LimitRule } from "../core/limits/ledger";
import { LedgerStore } from "./ledger-store";
import { queueEvents } from "../workers/webhooks/events";

interface Stored {
  workspaceId: string;
  providerId: string;
  breaker: BreakerState;
  /** Start times of calls in flight (for least-loaded routing); stale entries expire. */
  inFlight: number[];
  latencyMs: number | null;
}

export interface AcquireItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  quota: { key: string; rules: LimitRule[]; n: number } | null;
  now?: number;
}

export interface ReleaseItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  grant: { permit: Permit; startedAt: number };
  outcome: CallOutcome | "neutral";
  latencyMs: number;
  now?: number;
}

export type Grant = { allowed: true; permit: Permit; startedAt: number } | { allowed: false; retryAt: number; reason: string };

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

// Weight of the newest latency sample in the moving average.
const EWMA_ALPHA = 0.2;

export class ProviderState extends DurableObject<Env> {
  private stored: Stored | null = null;
  /** Transitions waiting for the one write at the end of acquireMany/releaseMany (null: write each time). */
  private deferred: Transition[] | null = null;
  private readonly quota = new LedgerStore(this.ctx.storage);

  private async load(workspaceId: string, providerId: string): Promise<Stored> {
    if (!this.stored) {
      this.stored = (await this.ctx.storage.get<Stored>("s")) ?? {
        workspaceId,
        providerId,
        breaker: initialBreaker(Date.now()),
        inFlight: [],
        latencyMs: null,
      };
    }
    return this.stored;
  }

  private async save(s: Stored, transitions: Transition[]): Promise<void> {
    this.stored = s;
    // Inside acquireMany/releaseMany the state is written once, after the last item.
    if (this.deferred) {
      this.deferred.push(...transitions);
      return;
    }
    await this.persist(s, transitions);
  }

  /** Runs several calls with one storage write (and one D1 mirror) for all of them. */
  private async together<T>(fn: () => Promise<T>): Promise<T> {
    this.deferred = [];
    try {
      return await fn();
    } finally {
      const transitions = this.deferred;
      this.deferred = null;
      if (this.stored) await this.persist(this.stored, transitions);
    }
  }

  private async persist(s: Stored, transitions: Transition[]): Promise<void> {
    await this.ctx.storage.put("s", s);
    if (transitions.length === 0) return;
    const last = transitions[transitions.length - 1]!;
    if (last.to === "open") await this.ctx.storage.setAlarm(s.breaker.openUntil!);
    for (const t of transitions) {
      log.warn("breaker_transition", { workspace_id: s.workspaceId, provider_id: s.providerId, from: t.from, to: t.to, reason: t.reason });
    }
    try {
      const db = getDb(this.env.DB);
      await recordBreakerState(db, s.workspaceId, s.providerId, s.breaker);
      // Customers hear about opened/closed breakers through their webhooks (delivered by the sweep).
      const events = transitions
        .filter((t) => t.to !== "half_open")
        .map((t) => ({
          type: t.to === "open" ? ("provider.circuit_opened" as const) : ("provider.circuit_closed" as const),
          data: { provider: { id: s.providerId, type: null }, status: t.to, reason: t.reason },
        }));
      if (events.length) await queueEvents(db, s.workspaceId, events, last.at);
    } catch (e) {
      // The DO's own storage is the source of truth; the D1 copy is for the API and reports.
      log.error("breaker_record_failed", { provider_id: s.providerId, error: safeErrorMessage(e) });
    }
  }

  /**
   * Asks to call the provider now: its breaker must allow a call and its quota (keyed by the
   * message, so retries of one message count once) must have room. One permit, both checks.
   */
  async acquire(
    workspaceId: string,
    providerId: string,
    cfg: BreakerConfig,
    quota: { key: string; rules: LimitRule[]; n: number } | null = null,
    now = Date.now(),
  ): Promise<Grant> {
    const s = await this.load(workspaceId, providerId);
    const a = acquire(s.breaker, cfg, now);
    const inFlight = s.inFlight.filter((t) => now - t < TRIAL_PERMIT_TTL_MS);
    if (!a.allowed) {
      await this.save({ ...s, breaker: a.state, inFlight }, a.transitions);
      return { allowed: false, retryAt: a.retryAt, reason: "circuit breaker open" };
    }
    if (quota && quota.rules.length > 0) {
      const d = await this.quota.consume(quota.key, quota.rules, quota.n, "UTC", now);
      if (!d.allowed) {
        // The trial permit (if any) was not used: do not keep it.
        // Only the permit just added (the last entry): others granted in the same instant stay.
        const breaker = a.permit === "trial" ? { ...a.state, trials: a.state.trials.slice(0, -1) } : a.state;
        await this.save({ ...s, breaker, inFlight }, a.transitions);
        return { allowed: false, retryAt: d.retryAt, reason: "quota used up" };
      }
    }
    await this.save({ ...s, breaker: a.state, inFlight: [...inFlight, now] }, a.transitions);
    return { allowed: true, permit: a.permit, startedAt: now };
  }

  /** Several acquires in order, as if called one after another, written once (workers/do-calls.ts). */
  acquireMany(items: AcquireItem[]): Promise<Grant[]> {
    return this.together(async () => {
      const out: Grant[] = [];
      for (const i of items) out.push(await this.acquire(i.workspaceId, i.providerId, i.cfg, i.quota, i.now));
      return out;
    });
  }

  /** Several releases in order, written once (workers/do-calls.ts). */
  releaseMany(items: ReleaseItem[]): Promise<null[]> {
    return this.together(async () => {
      for (const i of items) await this.release(i.workspaceId, i.providerId, i.cfg, i.grant, i.outcome, i.latencyMs, i.now);
      return items.map(() => null);
    });
  }

  /** Reports how a granted call went. `neutral` (a permanent, recipient-level failure) counts as success. */
  async release(
    workspaceId: string,
    providerId: string,
    cfg: BreakerConfig,
    grant: { permit: Permit; startedAt: number },
    outcome: CallOutcome | "neutral",
    latencyMs: number,
    now = Date.now(),
  ): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const i = s.inFlight.indexOf(grant.startedAt);
    const inFlight = i >= 0 ? [...s.inFlight.slice(0, i), ...s.inFlight.slice(i + 1)] : s.inFlight;
    const r = record(s.breaker, cfg, grant.permit, outcome === "neutral" ? "success" : outcome, now, grant.startedAt);
    const latency = s.latencyMs === null ? latencyMs : Math.round((1 - EWMA_ALPHA) * s.latencyMs + EWMA_ALPHA * latencyMs);
    await this.save({ ...s, breaker: r.state, inFlight, latencyMs: latency }, r.transitions);
  }

  /** A permit granted and never used (the message was held back by a limit): forgotten, no outcome counted. */
  async cancel(workspaceId: string, providerId: string, grant: { permit: Permit; startedAt: number }): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const i = s.inFlight.indexOf(grant.startedAt);
    const inFlight = i >= 0 ? [...s.inFlight.slice(0, i), ...s.inFlight.slice(i + 1)] : s.inFlight;
    const t = grant.permit === "trial" ? s.breaker.trials.indexOf(grant.startedAt) : -1;
    const breaker = t >= 0 ? { ...s.breaker, trials: [...s.breaker.trials.slice(0, t), ...s.breaker.trials.slice(t + 1)] } : s.breaker;
    await this.save({ ...s, breaker, inFlight }, []);
  }

  async currentLoad(): Promise<Load> {
    const s = this.stored ?? (await this.ctx.storage.get<Stored>("s"));
    if (!s) return { inFlight: 0, latencyMs: null };
    return { inFlight: s.inFlight.filter((t) => Date.now() - t < TRIAL_PERMIT_TTL_MS).length, latencyMs: s.latencyMs };
  }

  async snapshot(workspaceId: string, providerId: string, now = Date.now()): Promise<ProviderSnapshot> {
    const s = await this.load(workspaceId, providerId);
    const t = tick(s.breaker, now);
    if (t.transitions.length) await this.save({ ...s, breaker: t.state }, t.transitions);
    const b = t.state;
    return {
      state: b.state,
      consecutiveFailures: b.consecutiveFailures,
      recentCalls: b.window.length,
      recentFailures: b.window.filter((ok) => !ok).length,
      openedAt: b.openedAt,
      changedAt: b.changedAt,
      lastFailureAt: b.lastFailureAt,
      inFlight: s.inFlight.filter((x) => now - x < TRIAL_PERMIT_TTL_MS).length,
      latencyMs: s.latencyMs,
    };
  }

  async reset(workspaceId: string, providerId: string, now = Date.now()): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const r = reset(s.breaker, now);
    await this.save({ ...s, breaker: r.state }, r.transitions);
  }

  override async alarm(): Promise<void> {
    const s = this.stored ?? (await this.ctx.storage.get<Stored>("s"));
    if (!s) return;
    const t = tick(s.breaker, Date.now());
    await this.save({ ...s, breaker: t.state }, t.transitions);
  }
}

export const providerStateName = (workspaceId: string, providerId: string) => `${workspaceId}:${providerId}`;
export const getProviderState = (env: Env, workspaceId: string, providerId: string) =>
  env.PROVIDER_STATE.getByName(providerStateName(workspaceId, providerId));
