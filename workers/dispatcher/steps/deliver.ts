// deliver: each group's provider calls, with failover along its order (route.ts deliverGroup).
// Groups run in parallel (domain-based routing can split a message across providers); templated
// content goes out as one group per recipient, each with its own copy, at most
// FAN_OUT_CONCURRENCY calls at once. Right before each call the claim is renewed to outlast it;
// a failed-over call's attempt row is written as it happens, so every call leaves a row even if
// the process dies before the outcome is recorded. Breaker reports run beside the record write
// (a lost report costs the breaker one outcome and its permit expires, so it is logged, not
// retried).
import { attemptRow, providerFault, type GroupResult } from "../../../core/delivery/outcome";
import { CLAIM_MARGIN_MS, callDeadlineMs, needsRenewal } from "../../../core/deadline";
import { mapLimit } from "../../../core/map-limit";
import type { MessageRecipientRow } from "../../../db/messages/types";
import type { ProviderRow } from "../../../db/providers";
import { log } from "../../log";
import type { BatchContext } from "../batch-context";
import { buildProvider } from "../build-provider";
import type { Claimed, Delivered, Ready } from "../delivery";
import { envelopeFor, outboundFor, sendSafely } from "../provider-call";
import { deliverGroup, type RouteGroup } from "../route";
import { renderMime } from "../../../core/mime-render";
import { quotaOf } from "./permit";
import { renderOptions } from "./render";

/** Provider calls in flight at once for one message's per-recipient copies. */
export const FAN_OUT_CONCURRENCY = 6;

export async function deliver(ctx: BatchContext, d: Ready): Promise<Delivered> {
  const { message, settings, copies } = d;
  const messageId = message.id;
  const deliveryId = d.job.deliveryId;
  const reports: Promise<unknown>[] = [];
  const background = (work: Promise<unknown>) =>
    void reports.push(work.catch((e) => log.error("breaker_report_failed", { message_id: messageId, error: e instanceof Error ? e.message : String(e) })));
  const groups: RouteGroup[] = copies ? d.routeGroups.flatMap((g) => g.recipients.map((r) => ({ ...g, recipients: [r] }))) : d.routeGroups;

  const called = await mapLimit(groups, copies ? FAN_OUT_CONCURRENCY : groups.length, async (group): Promise<GroupResult> => {
    if (group.order.length === 0) return { ...group, outcome: { kind: "called", calls: [] } };
    const copy = copies?.get(group.recipients[0]!.id);
    // A per-recipient copy is its own call and its own quota consumption (the key is remembered,
    // so one key per message would count only the first copy).
    const callKey = copy ? `${messageId}:${group.recipients[0]!.id}` : messageId;
    const outbound = copy
      ? await outboundFor(message, copy, await renderMime(copy, renderOptions(message)), group.recipients, deliveryId)
      : await outboundFor(message, d.content, d.raw!, group.recipients, deliveryId);
    const send = async (provider: ProviderRow) => {
      const started = ctx.now();
      d.call.started = true;
      const built = await buildProvider(ctx.env, d.ring, provider);
      const result = providerFault(await sendSafely(provider, built, envelopeFor(ctx.env, provider, outbound, message, group.recipients), { now: ctx.now, ...(ctx.smtpSessions ? { sessions: ctx.smtpSessions } : {}) }));
      if (result.status === "transient") {
        log.warn("provider_transient", { message_id: messageId, provider_id: provider.id, reason: result.reason });
        await ctx.store.delivery.insertAttempt(attemptRow(message, provider, group.recipients, deliveryId, result, started, ctx.now()));
      }
      return result;
    };
    const firstGrant = d.first && d.first.provider.id === group.order[0]?.id ? d.first.grant : undefined;
    const outcome = await deliverGroup(
      ctx.calls, message.workspaceId, settings.routing, group.order, message.forceSend || settings.routing.force_send, ctx.now, send,
      (provider) => quotaOf(d, provider, `provider:${callKey}`, group.recipients.length),
      background, firstGrant, callKey,
      (provider) => holdClaim(ctx, d, provider, group.recipients), group.recipients.map((r) => r.id),
    );
    return { ...group, outcome };
  });
  return { ...d, results: [...called, ...(await d.reconciled)], reports: Promise.all(reports) };
}

/**
 * Right before a call: the claim must outlast the call's deadline. When it does not already
 * (the first call usually is covered by the claim itself), it is renewed to now + deadline +
 * margin, in one small statement (coalesced with the batch's other jobs). False when another
 * consumer took any of these recipients over meanwhile: this job must not call for them.
 */
async function holdClaim(ctx: BatchContext, d: Claimed, provider: ProviderRow, recipients: MessageRecipientRow[]): Promise<boolean> {
  const deadline = callDeadlineMs(provider.type, provider.config);
  const at = ctx.now();
  if (!needsRenewal(d.claim.leaseUntil, at, deadline)) return true;
  const until = at + deadline + CLAIM_MARGIN_MS;
  const held = await ctx.store.delivery.renewClaim(d.message.workspaceId, d.message.id, d.claim.claimedAt, until);
  d.claim.leaseUntil = Math.max(d.claim.leaseUntil, until);
  if (recipients.every((r) => held.has(r.id))) return true;
  log.warn("claim_lost", { message_id: d.message.id, provider_id: provider.id });
  return false;
}
