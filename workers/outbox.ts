// The outbox sweep: anything still pending whose queue job should have run by now (accepted
// but never enqueued because the process died, or a job lost with a local queue) is enqueued
// again. Re-enqueueing is safe: the consumer never re-sends a recipient already `sent`.
import { readConfig } from "../core/config";
import { deliveryJob } from "../core/jobs";
import { getDb } from "../db/client";
import { findOutboxDue, markEnqueued } from "../db/messages";
import { log } from "./log";

const SWEEP_LIMIT = 500;

export async function sweepOutbox(env: Env, now = Date.now()): Promise<number> {
  const db = getDb(env.DB);
  const due = await findOutboxDue(db, now, readConfig(env).outboxGraceMs, SWEEP_LIMIT);
  for (let i = 0; i < due.length; i += 100) {
    const chunk = due.slice(i, i + 100);
    await env.DELIVERY_QUEUE.sendBatch(chunk.map((m) => ({ body: deliveryJob(m.workspaceId, m.id, m.sizeBytes) })));
    await markEnqueued(db, chunk.map((m) => m.id), now);
  }
  if (due.length > 0) log.info("outbox_swept", { enqueued: due.length });
  return due.length;
}
