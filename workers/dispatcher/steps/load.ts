// load: the message, its recipients and its workspace's delivery facts, with the claim on its
// pending recipients taken in the same round trip (store.delivery.loadAndClaim): a recipient already `sent`
// is never claimed again, and nothing is claimed for a job that arrived before its message is due.
import { CLAIM_MARGIN_MS, defaultDeadlineMs } from "../../../core/deadline";
import type { BatchContext } from "../batch-context";
import type { Job, Loaded, Stop } from "../delivery";

const CLAIM_LEASE = { defaultDeadlineMs, marginMs: CLAIM_MARGIN_MS };

/** Within this of its due time a message counts as due (a queue delay is whole seconds). */
export const DUE_SLACK_MS = 1000;

export async function load(ctx: BatchContext, job: Job): Promise<Loaded | Stop> {
  const now = ctx.now();
  // Both reads go out in the same turn: in a queue batch they share one D1 round trip.
  const [row, facts] = await Promise.all([
    ctx.store.delivery.loadAndClaim(job.workspaceId, job.messageId, now, CLAIM_LEASE, now + DUE_SLACK_MS),
    ctx.workspaceFacts(job.workspaceId),
  ]);
  if (!row) return { stop: "done", status: "missing" };
  return { ...row, ...facts, job, now };
}
