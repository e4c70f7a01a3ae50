// permit: for the common case (one group, one copy) the first provider's breaker permit is asked
// now, beside the render and the limits, so its Durable Object round trip does not come after
// them. `hold` hands it back unused when a limit holds; `deliver` uses it for the first call.
import { quotaFor, quotaRules } from "../../../core/limits/quota";
import { callLeaseMs } from "../../../core/routing/leases";
import type { ProviderRow } from "../../../db/providers";
import type { Quota } from "../../do-calls";
import type { BatchContext } from "../batch-context";
import { asked, type Enriched, type Loaded, type Permitted } from "../delivery";

export function permit(ctx: BatchContext, d: Enriched): Permitted {
  if (d.fanOut) return { ...d, firstPermit: null };
  const { workspaceId, id: messageId } = d.message;
  const firstPermit = d.groups.then((gs) => {
    const first = gs.length === 1 ? gs[0]!.order[0] : undefined;
    if (!first) return null;
    const lease = { leaseMs: callLeaseMs(first.type, first.config), key: messageId };
    return { provider: first, grant: asked(ctx.calls.acquirePermit(workspaceId, first.id, d.settings.routing.breaker, quotaOf(d, first, `provider:${messageId}`, d.claimed.length), lease)) };
  });
  return { ...d, firstPermit: asked(firstPermit) };
}

/** The provider's quota consumption for `n` recipients under `key` (remembered: a repeat counts once). */
export function quotaOf(d: Loaded, provider: ProviderRow, key: string, n: number): Quota {
  return { key, rules: quotaRules(quotaFor(provider.type, d.quotas.filter((q) => q.providerId === provider.id))), n };
}
