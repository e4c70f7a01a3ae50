// Each delivery outcome becomes a recipient event (the recipient's history: sent, deferred,
// failed, suppressed, ...), written in the same batch as the outcome itself. Bounces and
// complaints are recorded by email-ingest.
import type { Db } from "../db/client";
import { deliveryEventInserts } from "../db/recipients";
import type { RecordedOutcome } from "./dispatcher/hooks";

export const deliveryEventStatements = (db: Db, workspaceId: string, messageId: string, at: number, recipients: RecordedOutcome["recipients"]) =>
  deliveryEventInserts(
    db,
    workspaceId,
    messageId,
    at,
    recipients.map((r) => ({
      messageRecipientId: r.id,
      email: r.email,
      type: `delivery.${r.status}`,
      detail: { provider_id: r.providerId, provider_message_id: r.providerMessageId, reason: r.reason },
    })),
  );
