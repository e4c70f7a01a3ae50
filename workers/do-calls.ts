// The delivery path's Durable Object calls (limiter consumes, breaker acquire/release). The
// coalesced set, made once per queue invocation and carried in the batch's context
// (workers/dispatcher/batch-context.ts), merges the calls to one object made in the same turn:
// a queue batch's messages reach each step together, so ten messages of one workspace cost one
// limiter call instead of ten, and one provider's permits one acquire and one release. Each item
// is still decided on its own, in call order, as separate calls would be
// (durable-objects/ledger-store.ts consumeMany, provider-state.ts acquireMany/releaseMany). The
// direct set sends every call straight to its object.
//
// One coalesced set per invocation on purpose: promises must not be settled from another
// request's context in workerd, so calls from different invocations never share a round trip.
import { Coalescer } from "../core/coalesce";
import type { Decision, LimitRule } from "../core/limits/ledger";
import type { BreakerConfig, CallOutcome } from "../core/routing/breaker";
import type { ConsumeItem } from "../durable-objects/ledger-store";
import { getProviderState, providerStateName, type AcquireItem, type Grant, type GrantRef, type ReleaseItem } from "../durable-objects/provider-state";
import type { CallReportInput } from "../core/routing/takeover";
import { getWorkspaceLimiter } from "../durable-objects/workspace-limiter";
import { globalShardName } from "../durable-objects/global-limiter";

/** Items per call at most (a queue batch is at most 50 jobs; fan-out can add more). */
const MAX_ITEMS = 50;

/** What a permit is for: held for `leaseMs` if the call never reports back, and what it carries (`key`). */
export interface CallLease {
  leaseMs: number;
  key?: string;
}

export type Quota = { key: string; rules: LimitRule[]; n: number } | null;

export interface DoCalls {
  /** Check-and-consume in the workspace's limiter. */
  consumeWorkspace(workspaceId: string, item: ConsumeItem): Promise<Decision>;
  /** Check-and-consume in the global limiter shard that `shardKey` hashes to. */
  consumeGlobal(shardKey: string, shards: number, key: string, rules: LimitRule[], n: number, now: number): Promise<Decision>;
  /** Asks a provider's breaker (and quota) for a permit. */
  acquirePermit(workspaceId: string, providerId: string, cfg: BreakerConfig, quota: Quota, call?: CallLease): Promise<Grant>;
  /**
   * Reports how a permitted call went; with `report`, also what the provider answered, kept by its
   * object for a takeover if this consumer dies before recording it (same round trip).
   */
  releasePermit(workspaceId: string, providerId: string, cfg: BreakerConfig, grant: GrantRef, outcome: CallOutcome | "neutral", latencyMs: number, report?: CallReportInput): Promise<void>;
  /** Hands back a permit that was never used (no outcome is recorded). Rare: never coalesced. */
  cancelPermit(workspaceId: string, providerId: string, grant: GrantRef): Promise<void>;
}

const grantRef = (g: GrantRef): GrantRef => ({ permit: g.permit, startedAt: g.startedAt, ...(g.leaseId ? { leaseId: g.leaseId } : {}) });
const leaseOf = (call?: CallLease) => (call ? { leaseMs: call.leaseMs, ...(call.key ? { callKey: call.key } : {}) } : {});

/** Every call straight to its object. */
export function directDoCalls(env: Env): DoCalls {
  return {
    consumeWorkspace: (workspaceId, item) => getWorkspaceLimiter(env, workspaceId).consume(item.key, item.rules, item.n, item.tz, item.now),
    consumeGlobal: (shardKey, shards, key, rules, n, now) => env.GLOBAL_LIMITER.getByName(globalShardName(shardKey, shards)).consume(key, rules, n, now),
    acquirePermit: (workspaceId, providerId, cfg, quota, call) => getProviderState(env, workspaceId, providerId).acquire(workspaceId, providerId, cfg, quota, Date.now(), call?.leaseMs, call?.key),
    releasePermit: async (workspaceId, providerId, cfg, grant, outcome, latencyMs, report) => {
      await getProviderState(env, workspaceId, providerId).release(workspaceId, providerId, cfg, grantRef(grant), outcome, latencyMs, Date.now(), report);
    },
    cancelPermit: async (workspaceId, providerId, grant) => {
      await getProviderState(env, workspaceId, providerId).cancel(workspaceId, providerId, grantRef(grant));
    },
  };
}

/** The calls made in one turn to one object go as one (see above); make one set per invocation. */
export function coalescedDoCalls(env: Env): DoCalls {
  const opts = { maxItems: MAX_ITEMS };
  const provider = (key: string) => env.PROVIDER_STATE.getByName(key);
  const workspace = new Coalescer<ConsumeItem, Decision>((id, items) => getWorkspaceLimiter(env, id).consumeMany(items), opts);
  const global = new Coalescer<ConsumeItem, Decision>((name, items) => env.GLOBAL_LIMITER.getByName(name).consumeMany(items), opts);
  const acquire = new Coalescer<AcquireItem, Grant>((name, items) => provider(name).acquireMany(items), opts);
  const release = new Coalescer<ReleaseItem, null>((name, items) => provider(name).releaseMany(items), opts);
  return {
    ...directDoCalls(env),
    consumeWorkspace: (workspaceId, item) => workspace.call(workspaceId, item),
    consumeGlobal: (shardKey, shards, key, rules, n, now) => global.call(globalShardName(shardKey, shards), { key, rules, n, tz: "UTC", now }),
    acquirePermit: (workspaceId, providerId, cfg, quota, call) =>
      acquire.call(providerStateName(workspaceId, providerId), { workspaceId, providerId, cfg, quota, ...leaseOf(call) }),
    releasePermit: async (workspaceId, providerId, cfg, grant, outcome, latencyMs, report) => {
      await release.call(providerStateName(workspaceId, providerId), { workspaceId, providerId, cfg, grant: grantRef(grant), outcome, latencyMs, ...(report ? { report } : {}) });
    },
  };
}
