// One Durable Object per provider (named "<workspace id>:<provider id>", so tenants never share
// one): the circuit breaker, in-flight calls and recent latency. Every decision is a pure
// function of core/routing/provider-state.ts; this class is the shell around it: each method
// validates its input (core/routing/provider-inputs.ts), loads the state, calls core, persists,
// returns. A DO handles one event at a time, so "at most 10 trials" holds across every Worker.
//
// Side effects are recorded, then drained. A transition is written into the state itself (the
// same put, so a crash cannot lose it): to be announced (the D1 mirror the API and routing read,
// and the customer's provider.circuit_* webhook events), and, for half-open or closed, the
// messages deferred on this provider to be released. Two explicit steps drain them, both through
// `effects`, which the Worker supplies (workers/provider-effects.ts, bound in workers/index.ts),
// so nothing here imports workers/:
//   - announce(): right after the write, inside the same call, so the D1 mirror is current when
//     the call returns (routing's health filter and the API read it; the caller's latency is as
//     it was when the object wrote D1 itself). A transition is rare: a call without one pays
//     nothing. If D1 fails, the transitions stay recorded and the alarm tries again.
//   - releaseDeferred(): from the alarm only (armed at once by the transition), never inside a
//     caller's call: it pages through D1 and the queue, a page per alarm.
import { DurableObject } from "cloudflare:workers";
import { TRIAL_PERMIT_TTL_MS, type BreakerConfig, type BreakerState, type CallOutcome, type Transition } from "../core/routing/breaker";
import type { Load } from "../core/routing/strategies";
import { callReport, MAX_REPORTS, REPORT_TTL_MS, type CallReport, type CallReportInput, type ProviderEvidence } from "../core/routing/takeover";
import type { LimitRule } from "../core/limits/ledger";
import { parseDoInput } from "../core/do-input";
import {
  acquireArgsSchema, acquireItemsSchema, cancelArgsSchema, keysArgsSchema, nowArgsSchema, providerArgsSchema, releaseArgsSchema, releaseItemsSchema,
  type AcquireItem, type ReleaseItem,
} from "../core/routing/provider-inputs";
import {
  admitCall, afterRelease, alarmAfter, alarmOnTransition, alarmTick, ANNOUNCE_RETRY_MS, announced, cancelCall, expireCalls, grantCall, initialProviderState,
  loadOf, noteTransitions, refuseForQuota, releaseCall, releasePlan, resetProvider, snapshotOf, unreportedOf, upgradeProviderState,
  type Grant, type GrantRef, type ProviderSnapshot, type ProviderStateData,
} from "../core/routing/provider-state";
import { LedgerStore } from "./ledger-store";

export type { AcquireItem, Grant, GrantRef, ProviderSnapshot, ReleaseItem };

/** What the object asks the Worker to do (workers/provider-effects.ts). Neither throws: each logs its own failure. */
export interface ProviderEffects {
  /** Logs the transitions, mirrors `breaker` to D1, queues their webhook events. False if D1 failed (tried again later). */
  announce(env: Env, workspaceId: string, providerId: string, breaker: BreakerState, transitions: Transition[]): Promise<boolean>;
  /** Puts up to `limit` messages deferred on this provider back on the queue; how many, or null if it failed. */
  releaseDeferred(env: Env, workspaceId: string, providerId: string, now: number, limit: number): Promise<number | null>;
}

/** Reports are written beside the state; old ones are pruned every this many. */
const PRUNE_REPORTS_EVERY = 500;
/** After a page of releases the alarm comes back this soon; after a failed one, a little later. */
const NEXT_PAGE_MS = 1000;
const RELEASE_RETRY_MS = 5000;

type Quota = { key: string; rules: LimitRule[]; n: number } | null;

export abstract class ProviderState extends DurableObject<Env> {
  protected abstract readonly effects: ProviderEffects;
  private stored: ProviderStateData | null = null;
  /** Transitions waiting for the one write at the end of acquireMany/releaseMany (null: write each time). */
  private deferred: Transition[] | null = null;
  private announcing: Promise<void> | null = null;
  private readonly quota = new LedgerStore(this.ctx.storage);
  private reportsReady = false;
  private sincePrune = 0;

  /**
   * Asks to call the provider now: its breaker must allow a call and its quota (keyed by the
   * message, so retries of one message count once) must have room. One permit, both checks.
   */
  async acquire(
    workspaceId: string,
    providerId: string,
    cfg: BreakerConfig,
    quota: Quota = null,
    now = Date.now(),
    leaseMs: number = TRIAL_PERMIT_TTL_MS,
    callKey?: string,
  ): Promise<Grant> {
    const a = parseDoInput(acquireArgsSchema, { workspaceId, providerId, cfg, quota, now, leaseMs, callKey }, "ProviderState.acquire");
    return this.acquireOne(a.workspaceId, a.providerId, a.cfg, a.quota, a.now, a.leaseMs, a.callKey);
  }

  /** Several acquires in order, as if called one after another, written once (workers/do-calls.ts). */
  acquireMany(items: AcquireItem[]): Promise<Grant[]> {
    const valid = parseDoInput(acquireItemsSchema, items, "ProviderState.acquireMany");
    return this.together(async () => {
      const out: Grant[] = [];
      for (const i of valid) out.push(await this.acquireOne(i.workspaceId, i.providerId, i.cfg, i.quota, i.now ?? Date.now(), i.leaseMs ?? TRIAL_PERMIT_TTL_MS, i.callKey));
      return out;
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
    const r = parseDoInput(releaseArgsSchema, { workspaceId, providerId, cfg, grant, outcome, latencyMs, now, report }, "ProviderState.release");
    await this.releaseOne(r.workspaceId, r.providerId, r.cfg, r.grant, r.outcome, r.latencyMs, r.now, r.report);
  }

  /** Several releases in order, written once (workers/do-calls.ts). */
  releaseMany(items: ReleaseItem[]): Promise<null[]> {
    const valid = parseDoInput(releaseItemsSchema, items, "ProviderState.releaseMany");
    return this.together(async () => {
      for (const i of valid) await this.releaseOne(i.workspaceId, i.providerId, i.cfg, i.grant, i.outcome, i.latencyMs, i.now ?? Date.now(), i.report);
      return valid.map(() => null);
    });
  }

  /** A permit granted and never used (the message was held back by a limit): forgotten, no outcome counted. */
  async cancel(workspaceId: string, providerId: string, grant: GrantRef): Promise<void> {
    const c = parseDoInput(cancelArgsSchema, { workspaceId, providerId, grant }, "ProviderState.cancel");
    await this.save(cancelCall(await this.load(c.workspaceId, c.providerId), c.grant), []);
  }

  async currentLoad(now = Date.now()): Promise<Load> {
    const c = parseDoInput(nowArgsSchema, { now }, "ProviderState.currentLoad");
    const s = await this.saved();
    return s ? loadOf(s, c.now) : { inFlight: 0, latencyMs: null };
  }

  /**
   * Which of these calls (message ids, or message:recipient) were in flight here and never
   * reported back: still leased, or their lease ended. Asked only when a delivery takes over
   * recipients whose claim lapsed, so it can send them to the same provider again.
   */
  async inFlightOrOrphaned(keys: string[], now = Date.now()): Promise<string[]> {
    const c = parseDoInput(keysArgsSchema, { keys, now }, "ProviderState.inFlightOrOrphaned");
    const s = await this.saved();
    return s ? unreportedOf(s, c.keys, c.now) : [];
  }

  /**
   * Everything this object knows about these calls (message ids, or message:recipient): which
   * were in flight and never reported back, and the reports that did arrive (kept REPORT_TTL_MS).
   * Asked only when a delivery takes over recipients whose claim lapsed (core/routing/takeover.ts).
   */
  async takeoverEvidence(keys: string[], now = Date.now()): Promise<Omit<ProviderEvidence, "providerId">> {
    const c = parseDoInput(keysArgsSchema, { keys, now }, "ProviderState.takeoverEvidence");
    const s = await this.saved();
    const rows = this.reports()
      .exec<{ report: string }>("SELECT report FROM call_reports WHERE key IN (SELECT value FROM json_each(?)) AND at > ?", JSON.stringify(c.keys), c.now - REPORT_TTL_MS)
      .toArray();
    return { unreported: s ? unreportedOf(s, c.keys, c.now) : [], reports: rows.map((r) => JSON.parse(r.report) as CallReport) };
  }

  async snapshot(workspaceId: string, providerId: string, now = Date.now()): Promise<ProviderSnapshot> {
    const c = parseDoInput(providerArgsSchema, { workspaceId, providerId, now }, "ProviderState.snapshot");
    const t = snapshotOf(await this.load(c.workspaceId, c.providerId), c.now);
    if (t.transitions.length) await this.save(t.state, t.transitions);
    return t.snapshot;
  }

  async reset(workspaceId: string, providerId: string, now = Date.now()): Promise<void> {
    const c = parseDoInput(providerArgsSchema, { workspaceId, providerId, now }, "ProviderState.reset");
    const r = resetProvider(await this.load(c.workspaceId, c.providerId), c.now);
    await this.save(r.state, r.transitions);
  }

  /** Half-opens an open breaker whose time is up, retries a failed announcement, releases a page of deferred messages. */
  override async alarm(): Promise<void> {
    const s = await this.saved();
    if (!s) return;
    const now = Date.now();
    const t = alarmTick(s, now);
    await this.save(t.state, t.transitions);
    await this.announce();
    const retryInMs = await this.releaseDeferred(now);
    const at = alarmAfter(this.stored!, Date.now(), retryInMs);
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  private async acquireOne(workspaceId: string, providerId: string, cfg: BreakerConfig, quota: Quota, now: number, leaseMs: number, callKey: string | undefined): Promise<Grant> {
    const a = admitCall(expireCalls(await this.load(workspaceId, providerId), now), cfg, now, leaseMs);
    if (!a.allowed) {
      await this.save(a.state, a.transitions);
      return a.grant;
    }
    const room = quota && quota.rules.length > 0 ? await this.quota.consume(quota.key, quota.rules, quota.n, "UTC", now) : null;
    const g = room && !room.allowed ? refuseForQuota(a, room.retryAt) : grantCall(a, now, leaseMs, callKey, crypto.randomUUID());
    await this.save(g.state, a.transitions);
    return g.grant;
  }

  private async releaseOne(
    workspaceId: string,
    providerId: string,
    cfg: BreakerConfig,
    grant: GrantRef,
    outcome: CallOutcome | "neutral",
    latencyMs: number,
    now: number,
    report: CallReportInput | undefined,
  ): Promise<void> {
    const s = await this.load(workspaceId, providerId);
    if (report) this.keepReport(grant.leaseId ?? crypto.randomUUID(), callReport(report, now));
    const r = releaseCall(s, cfg, grant, outcome, latencyMs, now);
    await this.save(r.state, r.transitions);
  }

  private async load(workspaceId: string, providerId: string): Promise<ProviderStateData> {
    this.stored ??= (await this.saved()) ?? initialProviderState(workspaceId, providerId, Date.now());
    return this.stored;
  }

  /** The state if this object has any (the methods that do not name their provider create none). */
  private async saved(): Promise<ProviderStateData | null> {
    if (this.stored) return this.stored;
    const raw = await this.ctx.storage.get<ProviderStateData>("s");
    return raw ? (this.stored = upgradeProviderState(raw)) : null;
  }

  private async save(s: ProviderStateData, transitions: Transition[]): Promise<void> {
    this.stored = s;
    // Inside acquireMany/releaseMany the state is written once, after the last item.
    if (this.deferred) {
      this.deferred.push(...transitions);
      return;
    }
    await this.persist(s, transitions);
  }

  /** Runs several calls with one storage write (and one announcement) for all of them. */
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

  private async persist(s: ProviderStateData, transitions: Transition[]): Promise<void> {
    const noted = (this.stored = noteTransitions(s, transitions));
    await this.ctx.storage.put("s", noted);
    const at = alarmOnTransition(noted, transitions, Date.now());
    if (at === null) return;
    await this.ctx.storage.setAlarm(at);
    await this.announce();
  }

  /**
   * Drains the recorded transitions through effects.announce, oldest first. One drain at a time
   * (a call arriving meanwhile waits for it, and its own transitions go in the same loop), so no
   * event is queued twice; a failure leaves them recorded and brings the alarm forward.
   */
  private announce(): Promise<void> {
    this.announcing ??= (async () => {
      for (let s = this.stored; s?.unannounced?.length; s = this.stored) {
        const due = s.unannounced;
        if (!(await this.effects.announce(this.env, s.workspaceId, s.providerId, s.breaker, due))) {
          const retryAt = Date.now() + ANNOUNCE_RETRY_MS;
          const alarm = await this.ctx.storage.getAlarm();
          if (alarm === null || alarm > retryAt) await this.ctx.storage.setAlarm(retryAt);
          return;
        }
        this.stored = announced(this.stored!, due);
        await this.ctx.storage.put("s", this.stored);
      }
    })().finally(() => (this.announcing = null));
    return this.announcing;
  }

  /**
   * The breaker half-opened or closed: the workspace's messages deferred on this provider (or on
   * every provider) are put on the queue now, as many as core/routing/release.ts says. Returns
   * when to come back if more is pending.
   */
  private async releaseDeferred(now: number): Promise<number> {
    const s = this.stored!;
    const plan = releasePlan(s);
    if (!plan) return 0;
    const released = plan.limit === 0 ? 0 : await this.effects.releaseDeferred(this.env, s.workspaceId, s.providerId, now, plan.limit);
    if (released === null) return RELEASE_RETRY_MS;
    // The breaker may have moved while D1 and the queue were called: decided on the state now.
    await this.save(afterRelease(this.stored!, plan, released), []);
    return NEXT_PAGE_MS;
  }

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
}

export const providerStateName = (workspaceId: string, providerId: string) => `${workspaceId}:${providerId}`;
export const getProviderState = (env: Env, workspaceId: string, providerId: string) =>
  env.PROVIDER_STATE.getByName(providerStateName(workspaceId, providerId));
