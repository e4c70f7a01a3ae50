// claim: what this job holds. A message not yet due, or whose recipients another consumer holds,
// waits; one with nothing pending is done. Until a provider is called, a failure hands the claim
// back (handBack), so the queue's retry finds the recipients pending instead of waiting out the
// lease; after a call the lease stands, so a crash between the call and the record can never lead
// to a quick second send.
import { queueDelaySeconds } from "../../../core/retry-policy";
import { isPending } from "../../../core/status";
import { claimLapsesAt } from "../../../db/messages/delivery";
import type { BatchContext } from "../batch-context";
import type { Claimed, Loaded, Stop } from "../delivery";
import { DUE_SLACK_MS } from "./load";

export function claim(d: Loaded): Claimed | Stop {
  const { message, recipients, claimed, now } = d;
  if (message.notBefore !== null && message.notBefore > now + DUE_SLACK_MS) {
    // A deferral longer than the queue's maximum delay arrives early: wait again.
    return { stop: "wait", message, delaySeconds: queueDelaySeconds(message.notBefore, now), reason: "not yet due" };
  }
  const pending = recipients.filter((r) => isPending(r.status));
  if (pending.length === 0) return { stop: "done", status: message.status };
  if (claimed.length === 0) {
    // Another consumer holds them (or held them and died): look again when its claim lapses.
    const held = pending.filter((r) => r.status === "sending");
    const leaseEnd = Math.min(...(held.length ? held : pending).map(claimLapsesAt));
    return { stop: "wait", message, delaySeconds: queueDelaySeconds(leaseEnd + DUE_SLACK_MS, now), reason: "recipients in flight elsewhere" };
  }
  const mine = new Set(claimed.map((r) => r.id));
  // `recipients` are as read before this claim: `sending` there means a lapsed claim.
  const before = new Map(recipients.map((r) => [r.id, r.status]));
  return {
    ...d,
    pending,
    claim: { claimedAt: now, leaseUntil: Math.min(...claimed.map((r) => r.leaseUntil ?? now)) },
    others: recipients.filter((r) => !mine.has(r.id)).map((r) => r.status),
    lapsed: claimed.filter((r) => before.get(r.id) === "sending"),
    phi: message.containsPhi || message.tags.includes("dlp:flagged"),
    call: { started: false },
  };
}

/** After a failure before any provider call: the claimed recipients go back as they were. */
export async function handBack(ctx: BatchContext, d: Claimed): Promise<void> {
  if (d.call.started) return;
  const before = new Map(d.recipients.map((r) => [r.id, r.status]));
  const rows = d.claimed.map((r) => ({ id: r.id, status: before.get(r.id) ?? "queued" }));
  await ctx.store.delivery.releaseClaim(d.message.workspaceId, d.message.id, rows, d.message.status, d.now).catch(() => {});
}
