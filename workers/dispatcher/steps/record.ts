// record: the job's outcome in one write (store.delivery.recordDelivery: recipients, attempts, recipient
// events, the message's status and next due time). What each group comes to is decided in
// core/delivery/outcome.ts. The breaker reports still in flight are awaited after, by
// after-record, beside the hooks.
import { recordJob } from "../../../core/delivery/outcome";
import type { RecipientStatus } from "../../../core/status";
import { deliveryEvents } from "../../recipient-events";
import type { BatchContext } from "../batch-context";
import type { Delivered, Stop } from "../delivery";

export async function record(ctx: BatchContext, d: Delivered): Promise<Stop> {
  const { message, claimed } = d;
  const at = ctx.now();
  let others = d.others;
  // Recipients whose claim another consumer took over (this job's lapsed) are its to record.
  const lost = d.results.flatMap((g) => (g.outcome.kind === "lost" ? g.recipients : []));
  if (lost.length > 0) {
    if (lost.length === claimed.length) return { stop: "done", status: "taken over" };
    others = [...others, ...lost.map((): RecipientStatus => "sending")];
  }
  const job = recordJob(message, d.settings.retry_policy, d.results, d.job.deliveryId, at);
  const email = new Map(claimed.map((r) => [r.id, r.email]));
  const recipients = job.outcomes.map((o) => ({
    id: o.id,
    email: email.get(o.id)!,
    status: o.status,
    providerMessageId: o.providerMessageId ?? null,
    reason: o.lastError ?? null,
    providerId: job.providerOf.get(o.id) ?? null,
  }));
  const status = await ctx.store.delivery.recordDelivery({
    workspaceId: message.workspaceId,
    messageId: message.id,
    at,
    outcomes: job.outcomes,
    otherStatuses: others,
    attempts: job.attempts,
    ...(job.notBefore !== undefined ? { notBefore: job.notBefore, enqueuedAt: job.notBefore } : {}),
    waitingOn: job.waitingOn,
    lastError: job.lastError,
    countAttempt: job.called,
    campaignId: message.campaignId,
    events: deliveryEvents(recipients),
  });
  const outcome = { workspaceId: message.workspaceId, messageId: message.id, requestId: message.requestId ?? null, status, at, providerId: job.providerId, recipients };
  return { stop: "recorded", outcome, ...(job.notBefore !== undefined ? { notBefore: job.notBefore } : {}), reason: job.lastError ?? "retry" };
}
