// Deferred messages released when the provider they wait on recovers. The
// ProviderState Durable Object calls this from its alarm when its breaker half-opens or closes:
// the messages of the workspace deferred on that provider (messages.waiting_on) become due now
// and their jobs go straight on the queue, instead of waiting for the retry time fixed when they
// were deferred. Re-enqueueing is safe: the consumer claims only pending recipients, never one
// already `sent`, and the job the deferral sent earlier finds nothing left to do.
import { deliveryJob } from "../core/jobs";
import { openRelayStore } from "./store";
import { log } from "./log";

/** Releases up to `limit` messages; returns how many. If the queue send fails they are still due: the outbox sends them. */
export async function releaseDeferredOn(env: Env, workspaceId: string, providerId: string, now: number, limit: number): Promise<number> {
  const store = openRelayStore(env);
  const released = await store.outbox.releaseDeferredOn(workspaceId, providerId, now, limit).finally(() => store.close());
  for (let i = 0; i < released.length; i += 100) {
    const chunk = released.slice(i, i + 100);
    await env.DELIVERY_QUEUE.sendBatch(chunk.map((m) => ({ body: deliveryJob(workspaceId, m.id, m.sizeBytes) })));
  }
  if (released.length > 0) log.info("deferred_released", { workspace_id: workspaceId, provider_id: providerId, messages: released.length });
  return released.length;
}
