// route: the provider order for each group of the claimed recipients (route.ts planRoute: PHI
// narrows the candidates to BAA-covered providers first), asked as soon as the claim is known and
// awaited by `hold`, so it overlaps the body load and the render. A message a lapsed claim left
// behind goes through the takeover first (steps/takeover.ts); one an earlier takeover pinned to
// a provider goes to that provider only.
import { pinnedProvider } from "../../../core/routing/release";
import type { BatchContext } from "../batch-context";
import { asked, type Limited, type Routed } from "../delivery";
import { phiProviders, planRoute } from "../route";
import { pinGroups, takeOver } from "./takeover";

export function route(ctx: BatchContext, d: Limited): Routed {
  const routing = d.settings.routing;
  const candidates = d.phi ? phiProviders(routing, d.providers) : d.providers;
  const planned = asked(planRoute(ctx.env, ctx.store.health, d.message.workspaceId, routing, candidates, d.claimed));
  const pin = pinnedProvider(d.message.waitingOn);
  if (d.lapsed.length > 0) {
    const taken = asked(planned.then((groups) => takeOver(ctx, d, groups, pin)));
    return { ...d, groups: asked(taken.then((t) => t.groups)), reconciled: asked(taken.then((t) => t.reconciled)) };
  }
  const groups = pin ? asked(planned.then((gs) => pinGroups(gs, pin))) : planned;
  return { ...d, groups, reconciled: Promise.resolve([]) };
}
