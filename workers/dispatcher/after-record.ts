// Post-processing (the spec's stage 5): what happens once an attempt's outcome is committed.
// Each concern (customer webhooks, metrics, ...) registers one hook here; a hook failing never
// undoes or blocks the delivery record, it is logged and the next hook runs.
import type { Db } from "../../db/client";
import type { RecipientStatus, MessageStatus } from "../../core/status";
import { safeErrorMessage } from "../../db/errors";
import { log } from "../log";
import { webhookAfterRecord } from "../webhooks/after-record-hook";
import { deliveryLogHook } from "../observability/delivery-log";

export interface RecordedOutcome {
  workspaceId: string;
  messageId: string;
  /** The id of the request that accepted the message, carried into logs and webhooks. */
  requestId: string | null;
  /** The message's status after this record. */
  status: MessageStatus;
  at: number;
  providerId: string | null;
  recipients: {
    id: string;
    email: string;
    status: RecipientStatus;
    providerId: string | null;
    providerMessageId: string | null;
    reason: string | null;
  }[];
}

export interface HookContext {
  env: Env;
  db: Db;
}

export type AfterRecordHook = (ctx: HookContext, outcome: RecordedOutcome) => Promise<void>;

// Registered hooks, in order. (Webhook events and metrics register here as they land.)
// (Recipient events are not a hook: they are written in the record's own batch.)
const hooks: AfterRecordHook[] = [deliveryLogHook, webhookAfterRecord];

/** Runs every hook at once (they are independent: running them in turn only added latency). */
export async function afterRecord(ctx: HookContext, outcome: RecordedOutcome): Promise<void> {
  await Promise.all(
    hooks.map((hook) =>
      hook(ctx, outcome).catch((e) => log.error("after_record_hook_failed", { message_id: outcome.messageId, error: safeErrorMessage(e) })),
    ),
  );
}
