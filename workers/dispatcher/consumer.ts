// queue(): the delivery queue's consumer and the dead-letter queue's. Jobs carry ids only.
// A job is acknowledged once its outcome is recorded; a later retry is a NEW job sent with a
// delay (so the queue's own retry budget is kept for crashes, which end in the DLQ).
import { deliveryJob, deliveryJobSchema } from "../../core/jobs";
import { safeErrorMessage } from "../../db/errors";
import { openRelayStore } from "../store";
import { readConfig } from "../../core/config";
import { MemoryBudget } from "../../core/memory-budget";
import { log } from "../log";
import { withBatch, type BatchContext } from "./batch-context";
import { runDelivery } from "./pipeline";

export const DELIVERY_QUEUE = "relay-delivery";
export const DEAD_LETTER_QUEUE = "relay-delivery-dlq";

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue.startsWith(DEAD_LETTER_QUEUE)) return handleDeadLetters(batch, env);
  // The batch's jobs run side by side and share one context (batch-context.ts): their D1
  // batches and Durable Object calls go as one round trip per step, messages to one SMTP
  // smarthost share its sessions, and a workspace's settings are read once.
  await withBatch(env, (ctx) => deliverAll(batch, ctx));
}

async function deliverAll(batch: MessageBatch<unknown>, ctx: BatchContext): Promise<void> {
  const { env } = ctx;
  // Small messages all run side by side; large ones wait until the batch has room for them.
  const memory = new MemoryBudget(readConfig(env).deliveryMemoryBudgetBytes);
  await Promise.all(
    batch.messages.map(async (msg) => {
      const job = deliveryJobSchema.safeParse(msg.body);
      if (!job.success) {
        log.error("bad_job", { queue_message_id: msg.id });
        msg.ack(); // unparseable: retrying cannot help, and there is no message to fail
        return;
      }
      const { workspaceId, messageId, bytes } = job.data;
      try {
        // Admitted before the load, so a job waiting for room holds no claim on its recipients.
        const outcome = await memory.run(bytes, () => runDelivery(ctx, { workspaceId, messageId, deliveryId: msg.id }));
        if (outcome.kind === "later") {
          await env.DELIVERY_QUEUE.send(deliveryJob(workspaceId, messageId, bytes), { delaySeconds: outcome.delaySeconds });
        }
        msg.ack();
      } catch (e) {
        log.error("delivery_crashed", { message_id: messageId, attempt: msg.attempts, error: safeErrorMessage(e) });
        msg.retry({ delaySeconds: Math.min(300, 5 * 2 ** Math.min(msg.attempts, 6)) });
      }
    }),
  );
}

/** What lands in the DLQ crashed on every try: fail what is still pending, so nothing vanishes. */
async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const store = openRelayStore(env);
  try {
    for (const msg of batch.messages) {
      const job = deliveryJobSchema.safeParse(msg.body);
      if (job.success) {
        const n = await store.delivery.failPending(job.data.workspaceId, job.data.messageId, "delivery failed repeatedly (dead-lettered); see logs", Date.now());
        log.error("dead_lettered", { message_id: job.data.messageId, recipients_failed: n });
      }
      msg.ack();
    }
  } finally {
    await store.close();
  }
}
