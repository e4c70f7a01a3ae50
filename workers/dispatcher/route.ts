// Routing (spec §3): enabled providers → strategy order → per call, the provider's breaker (its
// Durable Object) must grant a permit → send → report the outcome back. Strategies are pure
// (core/routing/strategies.ts); this file gathers the state they need (round-robin position,
// loads) and walks the order with failover. The steps route.ts and deliver.ts call it.
import { domainOf } from "../../core/address";
import { byPriority, domainBased, leastLoaded, roundRobin, weighted, type Load } from "../../core/routing/strategies";
import type { RoutingConfig } from "../../core/workspace-config";
import type { MessageRecipientRow } from "../../db/messages/types";
import type { HealthStore } from "../../db/store/health";
import type { ProviderRow } from "../../db/store/providers";
import { getProviderState, type Grant } from "../../durable-objects/provider-state";
import { getWorkspaceLimiter } from "../../durable-objects/workspace-limiter";
import { withoutUnhealthy } from "../health-checks";
import type { DoCalls, Quota } from "../do-calls";
import { callLeaseMs } from "../../core/routing/leases";
import type { CallReportInput } from "../../core/routing/takeover";
import type { CallRecord, GroupOutcome } from "../../core/delivery/outcome";
import type { SendResult } from "./providers/types";
import { usesTls } from "./providers/transport";

export interface RouteGroup {
  recipients: MessageRecipientRow[];
  /** Providers in the order to try them: the strategy's choice first. */
  order: ProviderRow[];
  /** The order is a pin: a lapsed call's provider only (steps/takeover.ts). */
  pinned?: boolean;
}

/**
 * Orders the enabled providers by the workspace's strategy. domain_based can split one message:
 * recipients whose domains map to different providers form separate groups.
 */
export async function planRoute(env: Env, health: HealthStore, workspaceId: string, routing: RoutingConfig, allProviders: ProviderRow[], recipients: MessageRecipientRow[], rng: () => number = Math.random): Promise<RouteGroup[]> {
  let providers = routing.require_tls ? allProviders.filter((p) => usesTls(p.type, p.config)) : allProviders;
  // A provider whose latest health check failed recently is left out, like an open breaker
  // (kept when it would leave nobody: see withoutUnhealthy).
  providers = await withoutUnhealthy(env, health, workspaceId, providers);
  switch (routing.strategy) {
    case "round_robin": {
      const position = providers.length > 1 ? await getWorkspaceLimiter(env, workspaceId).nextRoundRobin() : 0;
      return [{ recipients, order: roundRobin(providers, position) }];
    }
    case "weighted":
      return [{ recipients, order: weighted(providers, rng) }];
    case "least_loaded": {
      const loads = new Map<string, Load>(
        await Promise.all(providers.map(async (p) => [p.id, await getProviderState(env, workspaceId, p.id).currentLoad()] as const)),
      );
      return [{ recipients, order: leastLoaded(providers, loads) }];
    }
    case "domain_based": {
      const groups = new Map<string, RouteGroup>();
      for (const r of recipients) {
        const order = domainBased(providers, routing.domain_rules, routing.default_provider_id, domainOf(r.email));
        const key = order.map((p) => p.id).join(",");
        const g = groups.get(key) ?? { recipients: [], order };
        g.recipients.push(r);
        groups.set(key, g);
      }
      return [...groups.values()];
    }
    default:
      return [{ recipients, order: byPriority(providers) }];
  }
}

/**
 * Compliance routing: a message flagged as containing PHI goes only to providers the workspace
 * declared BAA-covered (baa_covered) that also meet require_tls. The pipeline narrows the
 * candidates with this before health, breakers and strategy, so failover and force_send can
 * only ever choose among them. Uses only the provider rows already loaded for the batch.
 */
export function phiProviders(routing: RoutingConfig, providers: ProviderRow[]): ProviderRow[] {
  return providers.filter((p) => p.baaCovered && (!routing.require_tls || usesTls(p.type, p.config)));
}

/** Why a PHI message has no provider at all (waiting would not change it), or null when it has one. */
export function phiRefusal(routing: RoutingConfig, providers: ProviderRow[]): string | null {
  if (phiProviders(routing, providers).length > 0) return null;
  return providers.some((p) => p.baaCovered)
    ? "contains PHI and no BAA-covered provider that uses TLS (routing.require_tls) is configured"
    : "contains PHI and no BAA-covered provider is configured";
}

/**
 * Walks the order: a provider whose breaker refuses is skipped; a transient failure fails over
 * to the next (up to max_failover more); sent or permanent ends the walk. With every breaker
 * refusing, force_send calls the primary anyway; otherwise the group is blocked until the
 * earliest time a breaker lets calls through again.
 */
export async function deliverGroup(
  calls: DoCalls,
  workspaceId: string,
  routing: RoutingConfig,
  order: ProviderRow[],
  forceSend: boolean,
  now: () => number,
  send: (provider: ProviderRow) => Promise<SendResult>,
  /** The provider's quota check for this message (null: no quota). */
  quota: (provider: ProviderRow) => Quota = () => null,
  /**
   * Takes the breaker report (release) so the caller can await it beside its own record write
   * instead of before it: the report decides nothing for this group (failover goes to another
   * provider), so waiting for it here would only add a round trip. Awaited here when absent.
   */
  background?: (work: Promise<unknown>) => void,
  /** The first provider's permit, already asked for by the caller (beside its other round trips). */
  firstGrant?: Promise<Grant>,
  /** What the calls are for (the message id, or message:recipient), kept with each permit's lease. */
  callKey?: string,
  /**
   * Right before each call, after its permit: renews the claim on the group's recipients for
   * this call (core/deadline.ts). False means the claim is gone (another consumer holds the
   * recipients): the permit goes back unused and nobody is called.
   */
  beforeCall?: (provider: ProviderRow) => Promise<boolean>,
  /**
   * The recipients (ids) the calls are for. With callKey, each report also tells the provider's
   * object what the provider answered (sent with its message id, or not), in the same round trip:
   * the report can land while the record write below does not (the consumer killed in between),
   * and a takeover then records a reported success instead of sending again (core/routing/takeover.ts).
   */
  callRecipients?: string[],
): Promise<GroupOutcome> {
  const made: CallRecord[] = [];
  const reasons = new Set<string>();
  let earliest = Infinity;
  for (const provider of order) {
    if (made.length > routing.max_failover) break;
    const grant =
      firstGrant && provider === order[0]
        ? await firstGrant
        : await calls.acquirePermit(workspaceId, provider.id, routing.breaker, quota(provider), { leaseMs: callLeaseMs(provider.type, provider.config), ...(callKey ? { key: callKey } : {}) });
    if (!grant.allowed) {
      earliest = Math.min(earliest, grant.retryAt);
      reasons.add(grant.reason);
      continue;
    }
    if (beforeCall && !(await beforeCall(provider).catch(async (e: unknown) => {
      await calls.cancelPermit(workspaceId, provider.id, grant).catch(() => {});
      throw e;
    }))) {
      await calls.cancelPermit(workspaceId, provider.id, grant).catch(() => {});
      return { kind: "lost", calls: made };
    }
    const call = await timed(provider, send, now);
    made.push(call);
    const answered = callKey && callRecipients ? callReportOf(callKey, callRecipients, call) : undefined;
    const report = calls.releasePermit(workspaceId, provider.id, routing.breaker, grant, breakerOutcome(call.result), call.finished - call.started, answered);
    if (background) background(report);
    else await report;
    if (call.result.status !== "transient") break;
  }
  if (made.length > 0) return { kind: "called", calls: made };
  const primary = order[0];
  if (forceSend && primary) {
    if (beforeCall && !(await beforeCall(primary))) return { kind: "lost", calls: made };
    return { kind: "called", calls: [await timed(primary, send, now)] };
  }
  return { kind: "blocked", retryAt: Number.isFinite(earliest) ? earliest : now() + 60_000, reason: [...reasons].join(" / ") || "no provider available" };
}

async function timed(provider: ProviderRow, send: (p: ProviderRow) => Promise<SendResult>, now: () => number): Promise<CallRecord> {
  const started = now();
  const result = await send(provider);
  return { provider, result, started, finished: now() };
}

/** What a call's report keeps for a takeover: only a 2xx with the provider's message id counts as sent. */
function callReportOf(key: string, recipients: string[], call: CallRecord): CallReportInput {
  const r = call.result;
  return { key, recipients, startedAt: call.started, sent: r.status === "sent", ...(r.status === "sent" ? { providerMessageId: r.providerMessageId } : {}) };
}

/** Only transient failures are the provider's fault; a refused recipient is not. */
const breakerOutcome = (r: SendResult) => (r.status === "transient" ? "failure" : r.status === "sent" ? "success" : "neutral");
