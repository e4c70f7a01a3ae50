// One Durable Object per provider (named "<workspace id>:<provider id>", so tenants never share
// one): the circuit breaker, in-flight calls and recent latency. The decisions are the pure
// state machine in core/routing/breaker.ts; this class persists its state, serialises callers
// (a DO handles one event at a time, so "at most 10 trials" holds across every Worker), arms
// the alarm that moves open → half-open, and records transitions in D1. Trial permits and
// in-flight calls are leases sized to the provider's call timeout (core/routing/leases.ts): a
// call whose Worker died is reclaimed when its lease ends. When the breaker half-opens or closes,
// its alarm releases the workspace's messages deferred on this provider at once
// (workers/deferred-release.ts), instead of leaving them to the retry time fixed when they waited.
import { DurableObject } from "cloudflare:workers";
import {
  acquire,
  DEFAULT_BREAKER_CONFIG,
  initialBreaker,
  normalizeBreaker,
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
import { expireLeases, lease, liveLeases, normalizeLeases, takeLease, type Lease, type Orphan } from "../core/routing/leases";
import { callReport, MAX_REPORTS, REPORT_TTL_MS, type CallReport, type CallReportInput, type ProviderEvidence } from "../core/routing/takeover";
import { moreToRelease, releaseDue, releaseLimit } from "../core/routing/release";
import { releaseDeferredOn } from "../workers/deferred-release";
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
  /** Calls in flight (for least-loaded routing and orphan detection); each ends with its report or its lease. */
  inFlight: Lease[];
  /** Calls whose lease ended without a report (their Worker died): the provider may have taken them. */
  orphans?: Orphan[];
  latencyMs: number | null;
  /** The breaker half-opened or closed and the messages deferred on it are not yet all released. */
  releasePending?: boolean;
  /** half_open_max_trials of the last caller's config (the alarm has no config of its own). */
  halfOpenTrials?: number;
}

export interface AcquireItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  quota: { key: string; rules: LimitRule[]; n: number } | null;
  /** How long the permit is held if the call never reports back (the provider's timeout + margin). */
  leaseMs?: number;
  /** What the call is for (message id, or message:recipient for a per-recipient copy). */
  callKey?: string;
  now?: number;
}

export interface ReleaseItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  grant: GrantRef;
  outcome: CallOutcome | "neutral";
  latencyMs: number;
  now?: number;
  /** What the provider answered, kept for a takeover if the consumer dies before recording it. */
  report?: CallReportInput;
}

/** A permit as its report names it: `leaseId` picks its own lease (startedAt alone is shared by a batch's calls). */
export interface GrantRef {
  permit: Permit;
  startedAt: number;
  leaseId?: string;
}

export type Grant = { allowed: true; permit: Permit; startedAt: number; leaseId: string } | { allowed: false; retryAt: number; reason: string };

/** Reports are written beside the state; old ones are pruned every this many. */
const PRUNE_REPORTS_EVERY = 500;

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
  private reportsReady = false;
  private sincePrune = 0;

  /**
   * Calls' reports (core/routing/takeover.ts), one SQLite row each in the object's own storage:
   * written with the report (no extra round trip), looked up only by a takeover.
   */
  private reports(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.reportsReady) {
      sql.exec(
        `CREATE TABLE IF NOT EXISTS call_reports (lease_id TEXT PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL, report TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS call_reports_key ON call_reports(key);
         CREATE INDEX IF NOT EXISTS call_reports_at ON call_reports(at);`,
      );
      this.reportsReady = true;
    }
    return sql;
  }

  private keepReport(leaseId: string, r: CallReport): void {
    const sql = this.reports();
    sql.exec("INSERT OR REPLACE INTO call_reports (lease_id, key, at, report) VALUES (?, ?, ?, ?)", leaseId, r.key, r.at, JSON.stringify(r));
    if (++this.sincePrune >= PRUNE_REPORTS_EVERY) {
      this.sincePrune = 0;
      sql.exec("DELETE FROM call_reports WHERE at <= ?", r.at - REPORT_TTL_MS);
      sql.exec("DELETE FROM call_reports WHERE lease_id IN (SELECT lease_id FROM call_reports ORDER BY at DESC LIMIT -1 OFFSET ?)", MAX_REPORTS);
    }
  }

  private async load(workspaceId: string, providerId: string): Promise<Stored> {
    if (!this.stored) {
      const saved = await this.ctx.storage.get<Stored>("s");
      this.stored = saved
        ? upgrade(saved)
        : { workspaceId, providerId, breaker: initialBreaker(Date.now()), inFlight: [], latencyMs: null };
    }
    return this.stored;
  }

  /** Ends the in-flight leases that ran out; the ones with a key are remembered as orphans. */
  private expire(s: Stored, now: number): Stored {
    const e = expireLeases(s.inFlight, s.orphans ?? [], now);
    return e.leases.length === s.inFlight.length ? s : { ...s, inFlight: e.leases, orphans: e.orphans };
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
    const last = transitions[transitions.length - 1];
    // Half-open or closed: the deferred messages go now, from the alarm (not inside this call).
    if (releaseDue(transitions) && !s.releasePending) s = this.stored = { ...s, releasePending: true };
    await this.ctx.storage.put("s", s);
    if (!last) return;
    if (last.to === "open") await this.ctx.storage.setAlarm(s.breaker.openUntil!);
    else await this.ctx.storage.setAlarm(Date.now());
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
    leaseMs: number = TRIAL_PERMIT_TTL_MS,
    callKey?: string,
  ): Promise<Grant> {
    const loaded = this.expire(await this.load(workspaceId, providerId), now);
    const s = loaded.halfOpenTrials === cfg.half_open_max_trials ? loaded : { ...loaded, halfOpenTrials: cfg.half_open_max_trials };
    const a = acquire(s.breaker, cfg, now, leaseMs);
    const inFlight = s.inFlight;
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
    const leaseId = crypto.randomUUID();
    await this.save({ ...s, breaker: a.state, inFlight: [...inFlight, lease(now, leaseMs, callKey, leaseId)] }, a.transitions);
    return { allowed: true, permit: a.permit, startedAt: now, leaseId };
  }

  /** Several acquires in order, as if called one after another, written once (workers/do-calls.ts). */
  acquireMany(items: AcquireItem[]): Promise<Grant[]> {
    return this.together(async () => {
      const out: Grant[] = [];
      for (const i of items) out.push(await this.acquire(i.workspaceId, i.providerId, i.cfg, i.quota, i.now, i.leaseMs, i.callKey));
      return out;
    });
  }

  /** Several releases in order, written once (workers/do-calls.ts). */
  releaseMany(items: ReleaseItem[]): Promise<null[]> {
    return this.together(async () => {
      for (const i of items) await this.release(i.workspaceId, i.providerId, i.cfg, i.grant, i.outcome, i.latencyMs, i.now, i.report);
      return items.map(() => null);
    });
  }

  /**
   * Reports how a granted call went. `neutral` (a permanent, recipient-level failure) counts as
   * success. With `report`, what the provider answered is kept (REPORT_TTL_MS) for a takeover of
   * the call's recipients if their consumer dies before recording it (takeoverEvidence).
   */
  async release(
    workspaceId: string,
    providerId: string,
    cfg: BreakerConfig,
    grant: GrantRef,
    outcome: CallOutcome | "neutral",
    latencyMs: number,
    now = Date.now(),
    report?: CallReportInput,
  ): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const inFlight = takeLease(s.inFlight, grant.startedAt, grant.leaseId);
    if (report) this.keepReport(grant.leaseId ?? crypto.randomUUID(), callReport(report, now));
    const r = record(s.breaker, cfg, grant.permit, outcome === "neutral" ? "success" : outcome, now, grant.startedAt);
    const latency = s.latencyMs === null ? latencyMs : Math.round((1 - EWMA_ALPHA) * s.latencyMs + EWMA_ALPHA * latencyMs);
    await this.save({ ...s, breaker: r.state, inFlight, latencyMs: latency }, r.transitions);
  }

  /** A permit granted and never used (the message was held back by a limit): forgotten, no outcome counted. */
  async cancel(workspaceId: string, providerId: string, grant: GrantRef): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const inFlight = takeLease(s.inFlight, grant.startedAt, grant.leaseId);
    const breaker = grant.permit === "trial" ? { ...s.breaker, trials: takeLease(s.breaker.trials, grant.startedAt) } : s.breaker;
    await this.save({ ...s, breaker, inFlight }, []);
  }

  async currentLoad(now = Date.now()): Promise<Load> {
    const saved = this.stored ?? (await this.ctx.storage.get<Stored>("s"));
    if (!saved) return { inFlight: 0, latencyMs: null };
    const s = upgrade(saved);
    return { inFlight: liveLeases(s.inFlight, now).length, latencyMs: s.latencyMs };
  }

  /**
   * Which of these calls (message ids, or message:recipient) were in flight here and never
   * reported back: still leased, or their lease ended. Asked only when a delivery takes over
   * recipients whose claim lapsed, so it can send them to the same provider again.
   */
  async inFlightOrOrphaned(keys: string[], now = Date.now()): Promise<string[]> {
    const saved = this.stored ?? (await this.ctx.storage.get<Stored>("s"));
    if (!saved) return [];
    const s = upgrade(saved);
    const e = expireLeases(s.inFlight, s.orphans ?? [], now);
    const seen = new Set([...e.leases.flatMap((l) => (l.key ? [l.key] : [])), ...e.orphans.map((o) => o.key)]);
    return keys.filter((k) => seen.has(k));
  }

  /**
   * Everything this object knows about these calls (message ids, or message:recipient): which
   * were in flight and never reported back, and the reports that did arrive (kept REPORT_TTL_MS).
   * Asked only when a delivery takes over recipients whose claim lapsed (core/routing/takeover.ts).
   */
  async takeoverEvidence(keys: string[], now = Date.now()): Promise<Omit<ProviderEvidence, "providerId">> {
    const unreported = await this.inFlightOrOrphaned(keys, now);
    const rows = this.reports()
      .exec<{ report: string }>("SELECT report FROM call_reports WHERE key IN (SELECT value FROM json_each(?)) AND at > ?", JSON.stringify(keys), now - REPORT_TTL_MS)
      .toArray();
    return { unreported, reports: rows.map((r) => JSON.parse(r.report) as CallReport) };
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
      inFlight: liveLeases(s.inFlight, now).length,
      latencyMs: s.latencyMs,
    };
  }

  async reset(workspaceId: string, providerId: string, now = Date.now()): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    const r = reset(s.breaker, now);
    await this.save({ ...s, breaker: r.state }, r.transitions);
  }

  override async alarm(): Promise<void> {
    const saved = this.stored ?? (await this.ctx.storage.get<Stored>("s"));
    if (!saved) return;
    const s = (this.stored = upgrade(saved));
    const now = Date.now();
    const t = tick(s.breaker, now);
    await this.save({ ...this.expire(s, now), breaker: t.state }, t.transitions);
    const retryInMs = await this.releaseDeferred(now);
    // One alarm for both jobs: the next page of releases, else the end of an open period.
    const after = this.stored!;
    if (after.releasePending) await this.ctx.storage.setAlarm(Date.now() + retryInMs);
    else if (after.breaker.state === "open" && after.breaker.openUntil !== null) await this.ctx.storage.setAlarm(after.breaker.openUntil);
  }

  /**
   * The breaker half-opened or closed: the workspace's messages deferred on this provider (or on
   * every provider) are put on the queue now. Half-open releases about as many as it has trials
   * (the rest would only be refused again; its close releases the others); closed releases them
   * all, a page per alarm. A failed release keeps the flag and is tried again in a few seconds;
   * a released message is never lost (the outbox enqueues it if the queue send failed).
   * Returns when to come back if more is pending.
   */
  private async releaseDeferred(now: number): Promise<number> {
    const s = this.stored;
    if (!s?.releasePending) return 0;
    const state = s.breaker.state;
    const limit = releaseLimit(state, s.halfOpenTrials ?? DEFAULT_BREAKER_CONFIG.half_open_max_trials);
    if (limit === 0) {
      await this.save({ ...s, releasePending: false }, []);
      return 0;
    }
    try {
      const released = await releaseDeferredOn(this.env, s.workspaceId, s.providerId, now, limit);
      const more = moreToRelease(state, released, limit);
      // Only the flag: the breaker may have moved while D1 and the queue were called.
      await this.save({ ...this.stored!, releasePending: more || this.stored!.breaker.state !== state }, []);
      return 1000;
    } catch (e) {
      log.error("deferred_release_failed", { provider_id: s.providerId, error: safeErrorMessage(e) });
      return 5000;
    }
  }
}

/** State written by an older version: lease ends added to trial and in-flight start times. */
function upgrade(s: Stored): Stored {
  const inFlight = s.inFlight as readonly unknown[];
  const breaker = normalizeBreaker(s.breaker);
  if (breaker === s.breaker && !inFlight.some((x) => typeof x === "number")) return s;
  return { ...s, breaker, inFlight: normalizeLeases(inFlight) };
}

export const providerStateName = (workspaceId: string, providerId: string) => `${workspaceId}:${providerId}`;
export const getProviderState = (env: Env, workspaceId: string, providerId: string) =>
  env.PROVIDER_STATE.getByName(providerStateName(workspaceId, providerId));
