// Each delivery outcome becomes a recipient event (the recipient's history: sent, deferred,
// failed, suppressed, ...), handed to recordDelivery as `events` and written in the same batch
// as the outcome itself (db/messages/delivery.ts). Bounces and complaints are recorded by
// email-ingest.
import type { DeliveryEvent } from "../db/recipients";
import type { RecordedOutcome } from "./dispatcher/hooks";

export const deliveryEvents = (recipients: RecordedOutcome["recipients"]): DeliveryEvent[] =>
  recipients.map((r) => ({
    messageRecipientId: r.id,
    email: r.email,
    type: `delivery.${r.status}`,
    detail: { provider_id: r.providerId, provider_message_id: r.providerMessageId, reason: r.reason },
  }));
