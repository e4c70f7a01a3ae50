// The inbound group (db/store/inbound.ts) on D1: db/inbound.ts, which is its implementation.
import type { Db } from "../../client";
import * as d1 from "../../inbound";
import type { InboundStore } from "../inbound";

export function d1Inbound(db: Db): InboundStore {
  return {
    findDeliveryById: (id) => d1.findDeliveryById(db, id),
    findDeliveryByMessageIdHeader: (header, email) => d1.findDeliveryByMessageIdHeader(db, header, email),
    findDeliveryByProviderMessageId: (ws, providerMessageId, email) => d1.findDeliveryByProviderMessageId(db, ws, providerMessageId, email),
    findDeliveryByMessage: (ws, messageId, email) => d1.findDeliveryByMessage(db, ws, messageId, email),
    findDeliveriesOfMessage: (messageId) => d1.findDeliveriesOfMessage(db, messageId),
    applyOutcome: (o) => d1.applyOutcome(db, o),
    getRecipientRecord: (ws, email) => d1.getRecipientRecord(db, ws, email),
    listRecipientEvents: (ws, id) => d1.listRecipientEvents(db, ws, id),
    providerTypeOf: (ws, providerId) => d1.providerTypeOf(db, ws, providerId),
  };
}
