// Each delivery outcome becomes a recipient event (the recipient's history: sent, deferred,
// failed, suppressed, ...). Bounces and complaints are recorded by email-ingest.
import type { AfterRecordHook } from "./dispatcher/after-record";
import { recordDeliveryEvents } from "../db/recipients";

export const recipientEventsHook: AfterRecordHook = async ({ db }, outcome) => {
  await recordDeliveryEvents(
    db,
    outcome.workspaceId,
    outcome.messageId,
    outcome.at,
    outcome.recipients.map((r) => ({
      messageRecipientId: r.id,
      email: r.email,
      type: `delivery.${r.status}`,
      detail: { provider_id: r.providerId, provider_message_id: r.providerMessageId, reason: r.reason },
    })),
  );
};
