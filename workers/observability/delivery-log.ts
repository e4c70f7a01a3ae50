// One log line per recipient outcome, carrying the accepting request's id (stored on the message
// at accept), so a request can be followed from accept through delivery. Addresses are logged as
// tokens (workers/log.ts); provider reasons are scrubbed of addresses there too.
import type { AfterRecordHook } from "../dispatcher/hooks";
import { log } from "../log";

export const deliveryLogHook: AfterRecordHook = async (_ctx, outcome) => {
  for (const r of outcome.recipients) {
    log.info("delivery_recorded", {
      request_id: outcome.requestId,
      workspace_id: outcome.workspaceId,
      message_id: outcome.messageId,
      message_status: outcome.status,
      provider_id: outcome.providerId,
      recipient: r.email,
      status: r.status,
      reason: r.reason,
    });
  }
};
