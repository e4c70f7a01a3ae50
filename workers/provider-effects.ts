// What a provider's Durable Object asks the rest of the relay to do, after it has recorded it in
// its own storage (durable-objects/provider-state.ts explains when each runs). workers/index.ts
// binds these to the class it exports, so the object itself imports only core and db.
import { breakerEvents } from "../core/routing/provider-state";
import { safeErrorMessage } from "../db/errors";
import type { Store } from "../db/store/store";
import type { ProviderEffects } from "../durable-objects/provider-state";
import { releaseDeferredOn } from "./deferred-release";
import { log } from "./log";
import { openRelayStore } from "./store";
import { queueEvents } from "./webhooks/events";

export const providerEffects: ProviderEffects = {
  /** The database's copy is for the API, routing's health filter and reports; customers hear through their webhooks (delivered by the sweep). */
  async announce(env, workspaceId, providerId, breaker, transitions) {
    // Outside any request (the provider's object calls it): a store of its own, closed when done.
    let store: Store | undefined;
    try {
      store = openRelayStore(env);
      await store.health.recordBreakerState(workspaceId, providerId, breaker);
      const events = breakerEvents(providerId, transitions);
      if (events.length) await queueEvents(store, workspaceId, events, transitions[transitions.length - 1]!.at);
      // Logged once announced, so a retry after a D1 failure does not log a transition twice.
      for (const t of transitions) log.warn("breaker_transition", { workspace_id: workspaceId, provider_id: providerId, from: t.from, to: t.to, reason: t.reason, at: t.at });
      return true;
    } catch (e) {
      log.error("breaker_record_failed", { provider_id: providerId, error: safeErrorMessage(e) });
      return false;
    } finally {
      await store?.close().catch(() => {});
    }
  },

  /** A released message is never lost: if the queue send failed, it is due and the outbox enqueues it. */
  async releaseDeferred(env, workspaceId, providerId, now, limit) {
    try {
      return await releaseDeferredOn(env, workspaceId, providerId, now, limit);
    } catch (e) {
      log.error("deferred_release_failed", { provider_id: providerId, error: safeErrorMessage(e) });
      return null;
    }
  },
};
