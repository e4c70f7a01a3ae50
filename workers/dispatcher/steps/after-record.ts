// after-record (the spec's stage 5): what happens once an attempt's outcome is committed.
// Each concern (customer webhooks, metrics, ...) registers one hook here; a hook failing never
// undoes or blocks the delivery record, it is logged and the next hook runs.
import { safeErrorMessage } from "../../../db/errors";
import { log } from "../../log";
import { webhookAfterRecord } from "../../webhooks/after-record-hook";
import { deliveryLogHook } from "../../observability/delivery-log";
import type { Stop } from "../delivery";
import type { AfterRecordHook, HookContext, RecordedOutcome } from "../hooks";

// Registered hooks, in order. (Webhook events and metrics register here as they land.)
// (Recipient events are not a hook: they are written in the record's own batch.)
const hooks: AfterRecordHook[] = [deliveryLogHook, webhookAfterRecord];

/**
 * After a recorded outcome, every hook at once (they are independent: running them in turn only
 * added latency), beside the breaker reports the calls left in flight.
 */
export async function afterRecord(ctx: HookContext, recorded: Stop, reports: Promise<unknown>): Promise<void> {
  await Promise.all([recorded.stop === "recorded" ? runHooks(ctx, recorded.outcome) : null, reports]);
}

async function runHooks(ctx: HookContext, outcome: RecordedOutcome): Promise<void> {
  await Promise.all(
    hooks.map((hook) =>
      hook(ctx, outcome).catch((e) => log.error("after_record_hook_failed", { message_id: outcome.messageId, error: safeErrorMessage(e) })),
    ),
  );
}
