// How a delivery job ends (pipeline.ts): every Stop a step returns becomes what the queue does
// with the job: acknowledge it, or run it again after a delay. A job that throws instead is
// retried by the queue and, after its retries, dead-lettered (consumer.ts).
import { queueDelaySeconds } from "../../core/retry-policy";
import type { BatchContext } from "./batch-context";
import type { JobOutcome, Stop } from "./delivery";
import { recordLimitHold } from "./steps/limit";

export async function finish(ctx: BatchContext, s: Stop): Promise<JobOutcome> {
  switch (s.stop) {
    case "done":
      return { kind: "done", status: s.status };
    case "wait": // marked due then, so the outbox does not add a second job meanwhile
      await ctx.store.delivery.markDueAt(s.message.workspaceId, s.message.id, ctx.now() + s.delaySeconds * 1000);
      return { kind: "later", delaySeconds: s.delaySeconds, reason: s.reason };
    case "limited":
      return recordLimitHold(ctx, s.d, s.hold);
    case "recorded":
      if (s.notBefore === undefined) return { kind: "done", status: s.outcome.status };
      return { kind: "later", delaySeconds: queueDelaySeconds(s.notBefore, s.outcome.at), reason: s.reason };
  }
}
