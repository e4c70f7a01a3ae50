// The accept group (db/store/accept.ts) on D1: the db/*.ts functions the accept path has always
// used, with the same round trips (the send settings one batch, the write one batch). A duplicate
// idempotency key aborts the write's batch whole (the record is its last statement); the adapter
// turns that unique violation into the `duplicate` outcome with the record that won.
import type { Db } from "../../client";
import { campaignStatus } from "../../campaigns";
import { isUniqueViolation } from "../../errors";
import { findInboundWorkspaces } from "../../inbound";
import { findGenerations } from "../../message-id-generations";
import { findIdempotencyRecord, insertMessage } from "../../messages/accept";
import { unclaimedDomains } from "../../sender-domains";
import { readSendSettings } from "../../send-settings";
import { findSuppressed } from "../../suppressions";
import { sameWorkspace, type AcceptStore } from "../accept";

export function d1Accept(db: Db): AcceptStore {
  return {
    sendSettings: (ws) => readSendSettings(db, ws),
    suppressed: (ws, emails) => findSuppressed(db, ws, emails),
    campaignStatus: (ws, id) => campaignStatus(db, ws, id),
    unclaimedDomains: (domains) => unclaimedDomains(db, domains),
    inboundWorkspaces: (domain, defaultSlug) => findInboundWorkspaces(db, domain, defaultSlug),
    async insertMessage(ws, m) {
      sameWorkspace(ws, m.message.workspaceId);
      try {
        const inserted = await insertMessage(db, m);
        return { status: "stored", messageStatus: inserted.status, recipients: inserted.recipients };
      } catch (e) {
        if (!m.idempotency || !isUniqueViolation(e)) throw e;
        const first = await findIdempotencyRecord(db, ws, m.idempotency.key);
        if (!first) throw e;
        return { status: "duplicate", first };
      }
    },
    idempotencyRecord: (ws, key) => findIdempotencyRecord(db, ws, key),
    messageIdGenerations: (ws, base) => findGenerations(db, ws, base),
  };
}
