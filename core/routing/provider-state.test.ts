import { describe, expect, it } from "vitest";
import { DEFAULT_BREAKER_CONFIG as cfg, type Transition } from "./breaker";
import {
  admitCall,
  afterRelease,
  alarmAfter,
  alarmOnTransition,
  alarmTick,
  ANNOUNCE_RETRY_MS,
  announced,
  breakerEvents,
  cancelCall,
  expireCalls,
  grantCall,
  initialProviderState,
  loadOf,
  MAX_UNANNOUNCED,
  noteTransitions,
  refuseForQuota,
  releaseCall,
  releasePlan,
  resetProvider,
  snapshotOf,
  unreportedOf,
  upgradeProviderState,
  type ProviderStateData,
} from "./provider-state";
import { RELEASE_PAGE } from "./release";

const t0 = 1_800_000_000_000;
const LEASE = 35_000;

/** One call start to finish, as the object runs it: admit, grant, release. */
function call(s: ProviderStateData, outcome: "success" | "failure" | "neutral", now: number, latencyMs = 10, c = cfg) {
  const a = admitCall(expireCalls(s, now), c, now, LEASE);
  if (!a.allowed) throw new Error(`refused: ${a.grant.reason}`);
  const g = grantCall(a, now, LEASE, undefined, `id_${now}_${Math.random()}`);
  if (!g.grant.allowed) throw new Error("unreachable");
  const r = releaseCall(g.state, c, g.grant, outcome, latencyMs, now);
  return { state: noteTransitions(r.state, [...a.transitions, ...r.transitions]), transitions: [...a.transitions, ...r.transitions] };
}

function opened(now: number): ProviderStateData {
  let s = initialProviderState("ws_1", "prv_1", now);
  for (let i = 0; i < 5; i++) s = call(s, "failure", now).state;
  return s;
}

describe("a provider's state (the ProviderState object's decisions, fake clock)", () => {
  it("a granted call is in flight under its own lease until it reports back; the latency is an average", () => {
    const s = initialProviderState("ws_1", "prv_1", t0);
    const a = admitCall(s, cfg, t0, LEASE);
    expect(a).toMatchObject({ allowed: true, permit: "normal", transitions: [] });
    if (!a.allowed) throw new Error("unreachable");
    expect(a.state.halfOpenTrials).toBe(cfg.half_open_max_trials);
    const one = grantCall(a, t0, LEASE, "msg_a", "id_a");
    expect(one.grant).toEqual({ allowed: true, permit: "normal", startedAt: t0, leaseId: "id_a" });
    const a2 = admitCall(one.state, cfg, t0, LEASE);
    if (!a2.allowed) throw new Error("unreachable");
    const two = grantCall(a2, t0, LEASE, "msg_b", "id_b");
    expect(loadOf(two.state, t0)).toEqual({ inFlight: 2, latencyMs: null });

    // Same startedAt (a batch): each report takes back its own lease, by id.
    const r1 = releaseCall(two.state, cfg, { permit: "normal", startedAt: t0, leaseId: "id_b" }, "success", 100, t0 + 100);
    expect(r1.state.inFlight.map((l) => l.key)).toEqual(["msg_a"]);
    const r2 = releaseCall(r1.state, cfg, { permit: "normal", startedAt: t0, leaseId: "id_a" }, "neutral", 200, t0 + 200);
    expect(loadOf(r2.state, t0 + 200)).toEqual({ inFlight: 0, latencyMs: 120 }); // 100, then 0.8·100 + 0.2·200
    expect(r2.state.breaker.consecutiveFailures).toBe(0); // neutral is not a failure
  });

  it("a call whose lease ended without a report is an orphan, still named as unreported", () => {
    const a = admitCall(initialProviderState("ws_1", "prv_1", t0), cfg, t0, LEASE);
    if (!a.allowed) throw new Error("unreachable");
    const g = grantCall(a, t0, LEASE, "msg_a", "id_a");
    expect(unreportedOf(g.state, ["msg_a", "msg_b"], t0 + 1)).toEqual(["msg_a"]);
    const later = expireCalls(g.state, t0 + LEASE);
    expect(later.inFlight).toEqual([]);
    expect(later.orphans).toEqual([{ key: "msg_a", at: t0 + LEASE }]);
    expect(unreportedOf(later, ["msg_a"], t0 + LEASE + 1)).toEqual(["msg_a"]);
    expect(expireCalls(later, t0 + LEASE + 1)).toBe(later); // nothing ended: the same state, no write needed
  });

  it("half-open: a quota refusal gives its trial permit back; a cancel frees the trial and its lease", () => {
    const open = opened(t0);
    expect(open.breaker.state).toBe("open");
    const at = open.breaker.openUntil!;
    const a = admitCall(open, cfg, at, LEASE);
    if (!a.allowed) throw new Error("unreachable");
    expect(a.permit).toBe("trial");
    expect(a.transitions.map((t) => t.to)).toEqual(["half_open"]);
    expect(a.state.breaker.trials).toHaveLength(1);
    expect(refuseForQuota(a, at + 1000)).toMatchObject({ grant: { allowed: false, retryAt: at + 1000, reason: "quota used up" }, state: { breaker: { trials: [] } } });

    const g = grantCall(a, at, LEASE, "msg_a", "id_a");
    if (!g.grant.allowed) throw new Error("unreachable");
    const c = cancelCall(g.state, g.grant);
    expect(c.breaker.trials).toEqual([]);
    expect(c.inFlight).toEqual([]);
    expect(c.breaker.consecutiveFailures).toBe(g.state.breaker.consecutiveFailures); // no outcome counted
  });

  it("an open breaker refuses until its time is up, then the alarm half-opens it", () => {
    const open = opened(t0);
    const refused = admitCall(open, cfg, t0 + 1, LEASE);
    expect(refused).toMatchObject({ allowed: false, grant: { allowed: false, retryAt: open.breaker.openUntil, reason: "circuit breaker open" } });
    expect(alarmTick(open, open.breaker.openUntil! - 1).transitions).toEqual([]);
    const t = alarmTick(open, open.breaker.openUntil!);
    expect(t.state.breaker.state).toBe("half_open");
    expect(t.transitions).toMatchObject([{ from: "open", to: "half_open" }]);
  });

  it("transitions are recorded in the state to announce; announcing some leaves the later ones", () => {
    const fresh = initialProviderState("ws_1", "prv_1", t0);
    expect(noteTransitions(fresh, [])).toBe(fresh);
    const open = opened(t0);
    expect(open.unannounced).toMatchObject([{ from: "closed", to: "open", reason: "5 consecutive failures" }]);
    expect(open.releasePending).toBeUndefined(); // opening releases nothing
    const half = alarmTick(open, open.breaker.openUntil!);
    const noted = noteTransitions(half.state, half.transitions);
    expect(noted.unannounced!.map((t) => t.to)).toEqual(["open", "half_open"]);
    expect(noted.releasePending).toBe(true);
    const rest = announced(noted, open.unannounced!);
    expect(rest.unannounced!.map((t) => t.to)).toEqual(["half_open"]);
    expect("unannounced" in announced(rest, rest.unannounced!)).toBe(false);
    // D1 unreachable for long: only the newest are kept (the mirror is the current state anyway).
    const many = Array.from({ length: MAX_UNANNOUNCED + 5 }, (_, i): Transition => ({ from: "closed", to: "open", at: t0 + i, reason: `${i}` }));
    const kept = noteTransitions(fresh, many).unannounced!;
    expect(kept).toHaveLength(MAX_UNANNOUNCED);
    expect(kept[0]!.reason).toBe("5");
  });

  it("webhook events: opened and closed, not half-open", () => {
    const ts: Transition[] = [
      { from: "closed", to: "open", at: t0, reason: "5 consecutive failures" },
      { from: "open", to: "half_open", at: t0 + 60_000, reason: "open for 60s" },
      { from: "half_open", to: "closed", at: t0 + 61_000, reason: "5 trial calls succeeded" },
    ];
    expect(breakerEvents("prv_1", ts)).toEqual([
      { type: "provider.circuit_opened", data: { provider: { id: "prv_1", type: null }, status: "open", reason: "5 consecutive failures" } },
      { type: "provider.circuit_closed", data: { provider: { id: "prv_1", type: null }, status: "closed", reason: "5 trial calls succeeded" } },
    ]);
  });

  it("the alarm is set for the end of an open period, now for a release, and retries what failed", () => {
    const open = opened(t0);
    expect(alarmOnTransition(open, [], t0)).toBeNull();
    expect(alarmOnTransition(open, open.unannounced!, t0)).toBe(open.breaker.openUntil);
    const reset = resetProvider(open, t0 + 5);
    expect(reset.transitions.map((t) => t.to)).toEqual(["closed"]);
    expect(alarmOnTransition(reset.state, reset.transitions, t0 + 5)).toBe(t0 + 5);

    expect(alarmAfter({ ...open, releasePending: true }, t0, 1000)).toBe(t0 + 1000);
    expect(alarmAfter(open, t0, 1000)).toBe(t0 + ANNOUNCE_RETRY_MS); // its opening was not announced yet
    expect(alarmAfter(announced(open, open.unannounced!), t0, 1000)).toBe(open.breaker.openUntil);
    expect(alarmAfter(initialProviderState("ws_1", "prv_1", t0), t0, 1000)).toBeNull();
  });

  it("releases: half-open as many as its trials, closed a page at a time; a breaker that moved meanwhile releases again", () => {
    expect(releasePlan(initialProviderState("ws_1", "prv_1", t0))).toBeNull();
    const open = opened(t0);
    const half = alarmTick(open, open.breaker.openUntil!);
    const pending = noteTransitions(half.state, half.transitions);
    const plan = releasePlan(pending)!;
    expect(plan).toEqual({ state: "half_open", limit: cfg.half_open_max_trials });
    expect(afterRelease(pending, plan, 3).releasePending).toBe(false); // half-open does not page
    const closed = { ...pending, breaker: { ...pending.breaker, state: "closed" as const } };
    expect(afterRelease(closed, plan, 3).releasePending).toBe(true); // closed while the release ran
    const page = releasePlan(closed)!;
    expect(page).toEqual({ state: "closed", limit: RELEASE_PAGE });
    expect(afterRelease(closed, page, RELEASE_PAGE).releasePending).toBe(true);
    expect(afterRelease(closed, page, RELEASE_PAGE - 1).releasePending).toBe(false);
    expect(releasePlan({ ...open, releasePending: true })).toEqual({ state: "open", limit: 0 });
  });

  it("a snapshot half-opens an expired open breaker first and counts recent failures", () => {
    const open = opened(t0);
    const early = snapshotOf(open, t0 + 1);
    expect(early.transitions).toEqual([]);
    expect(early.state).toBe(open);
    expect(early.snapshot).toMatchObject({ state: "open", consecutiveFailures: 5, recentCalls: 5, recentFailures: 5, inFlight: 0, latencyMs: 10 });
    expect(snapshotOf(open, open.breaker.openUntil!).snapshot.state).toBe("half_open");
  });

  it("state written by an older version (bare start times) is upgraded; current state is kept as is", () => {
    const current = initialProviderState("ws_1", "prv_1", t0);
    expect(upgradeProviderState(current)).toBe(current);
    const old = { ...current, inFlight: [t0] as unknown as ProviderStateData["inFlight"] };
    expect(upgradeProviderState(old).inFlight).toEqual([{ startedAt: t0, until: t0 + 120_000 }]);
  });
});
