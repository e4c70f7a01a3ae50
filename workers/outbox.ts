// The outbox sweep: anything still pending whose queue job should have run by now (accepted
// but never enqueued because the process died, or a job lost with a local queue) is enqueued
// again. Re-enqueueing is safe: the consumer never re-sends a recipient already `sent`.
//
// A message whose recipients' claim lapsed (their consumer died, perhaps mid-call) is enqueued
// at the first sweep after the lapse, without the grace: the grace is for jobs that may still be
// on the queue, and a lapsed claim's job is gone with its consumer (or waits for exactly this).
import { readConfig } from "../core/config";
import { deliveryJob } from "../core/jobs";
import { openRelayStore } from "./store";
import type { DueMessage, OutboxStore } from "../db/store/store";
import { log } from "./log";

const SWEEP_LIMIT = 500;

export async function sweepOutbox(env: Env, now = Date.now()): Promise<number> {
  const store = openRelayStore(env);
  try {
    const outbox = store.outbox;
    const [due, lapsed] = await Promise.all([outbox.due(now, readConfig(env).outboxGraceMs, SWEEP_LIMIT), outbox.lapsedClaims(now, SWEEP_LIMIT)]);
    const all = [...new Map([...lapsed, ...due].map((m) => [m.id, m])).values()];
    await enqueue(env, outbox, all, now);
    if (all.length > 0) log.info("outbox_swept", { enqueued: all.length, lapsed_claims: lapsed.length });
    return all.length;
  } finally {
    await store.close();
  }
}

/**
 * Only the lapsed claims (the sweeper's look right after a claim's lapse, between its regular
 * sweeps). Returns how many were enqueued and when the next live claim lapses (null: none held).
 */
export async function sweepLapsedClaims(env: Env, now = Date.now()): Promise<{ enqueued: number; nextLapse: number | null }> {
  const store = openRelayStore(env);
  try {
    const [lapsed, nextLapse] = await Promise.all([store.outbox.lapsedClaims(now, SWEEP_LIMIT), store.outbox.nextClaimLapse(now)]);
    await enqueue(env, store.outbox, lapsed, now);
    if (lapsed.length > 0) log.info("outbox_swept", { enqueued: lapsed.length, lapsed_claims: lapsed.length });
    return { enqueued: lapsed.length, nextLapse };
  } finally {
    await store.close();
  }
}

async function enqueue(env: Env, outbox: OutboxStore, due: DueMessage[], now: number): Promise<void> {
  for (let i = 0; i < due.length; i += 100) {
    const chunk = due.slice(i, i + 100);
    await env.DELIVERY_QUEUE.sendBatch(chunk.map((m) => ({ body: deliveryJob(m.workspaceId, m.id, m.sizeBytes) })));
    await outbox.markEnqueued(chunk.map((m) => m.id), now);
  }
}
