// The delivery path's Durable Object calls (limiter consumes, breaker acquire/release), coalesced
// per object inside withDoCoalescing(): a queue batch's messages reach each step together, so
// ten messages of one workspace cost one limiter call instead of ten, and one provider's
// permits one acquire and one release. Each item is still decided on its own, in call order, as
// separate calls would be (durable-objects/ledger-store.ts consumeMany, provider-state.ts
// acquireMany/releaseMany). Outside the scope every call goes straight to its object.
//
// The scope is per queue invocation on purpose: promises must not be settled from another
// request's context in workerd, so calls from different invocations never share a round trip.
import { AsyncLocalStorage } from "node:async_hooks";
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

interface Scope {
  workspace: Coalescer<ConsumeItem, Decision>;
  global: Coalescer<ConsumeItem, Decision>;
  acquire: Coalescer<AcquireItem, Grant>;
  release: Coalescer<ReleaseItem, null>;
}

const scope = new AsyncLocalStorage<Scope>();

export function withDoCoalescing<T>(env: Env, fn: () => Promise<T>): Promise<T> {
  const opts = { maxItems: MAX_ITEMS };
  const provider = (key: string) => env.PROVIDER_STATE.getByName(key);
  return scope.run(
    {
      workspace: new Coalescer((id, items) => getWorkspaceLimiter(env, id).consumeMany(items), opts),
      global: new Coalescer((name, items) => env.GLOBAL_LIMITER.getByName(name).consumeMany(items), opts),
      acquire: new Coalescer((name, items) => provider(name).acquireMany(items), opts),
      release: new Coalescer((name, items) => provider(name).releaseMany(items), opts),
    },
    fn,
  );
}

/** Check-and-consume in the workspace's limiter. */
export function consumeWorkspace(env: Env, workspaceId: string, item: ConsumeItem): Promise<Decision> {
  const s = scope.getStore();
  return s ? s.workspace.call(workspaceId, item) : getWorkspaceLimiter(env, workspaceId).consume(item.key, item.rules, item.n, item.tz, item.now);
}

/** Check-and-consume in the global limiter shard that `shardKey` hashes to. */
export function consumeGlobal(env: Env, shardKey: string, shards: number, key: string, rules: LimitRule[], n: number, now: number): Promise<Decision> {
  const name = globalShardName(shardKey, shards);
  const s = scope.getStore();
  return s ? s.global.call(name, { key, rules, n, tz: "UTC", now }) : env.GLOBAL_LIMITER.getByName(name).consume(key, rules, n, now);
}

/** What a permit is for: held for `leaseMs` if the call never reports back, and what it carries (`key`). */
export interface CallLease {
  leaseMs: number;
  key?: string;
}

/** Asks a provider's breaker (and quota) for a permit. */
export function acquirePermit(
  env: Env,
  workspaceId: string,
  providerId: string,
  cfg: BreakerConfig,
  quota: { key: string; rules: LimitRule[]; n: number } | null,
  call?: CallLease,
): Promise<Grant> {
  const s = scope.getStore();
  const lease = call ? { leaseMs: call.leaseMs, ...(call.key ? { callKey: call.key } : {}) } : {};
  return s
    ? s.acquire.call(providerStateName(workspaceId, providerId), { workspaceId, providerId, cfg, quota, ...lease })
    : getProviderState(env, workspaceId, providerId).acquire(workspaceId, providerId, cfg, quota, Date.now(), call?.leaseMs, call?.key);
}

const grantRef = (g: GrantRef): GrantRef => ({ permit: g.permit, startedAt: g.startedAt, ...(g.leaseId ? { leaseId: g.leaseId } : {}) });

/**
 * Reports how a permitted call went; with `report`, also what the provider answered, kept by its
 * object for a takeover if this consumer dies before recording it (same round trip).
 */
export async function releasePermit(
  env: Env,
  workspaceId: string,
  providerId: string,
  cfg: BreakerConfig,
  grant: GrantRef,
  outcome: CallOutcome | "neutral",
  latencyMs: number,
  report?: CallReportInput,
): Promise<void> {
  const s = scope.getStore();
  const permit = grantRef(grant);
  if (s) await s.release.call(providerStateName(workspaceId, providerId), { workspaceId, providerId, cfg, grant: permit, outcome, latencyMs, ...(report ? { report } : {}) });
  else await getProviderState(env, workspaceId, providerId).release(workspaceId, providerId, cfg, permit, outcome, latencyMs, Date.now(), report);
}

/** Hands back a permit that was never used (no outcome is recorded). Rare: not coalesced. */
export async function cancelPermit(env: Env, workspaceId: string, providerId: string, grant: GrantRef): Promise<void> {
  await getProviderState(env, workspaceId, providerId).cancel(workspaceId, providerId, grantRef(grant));
}
