// The store on D1: the db/messages/* functions over one Db. Inside a queue batch that Db is the
// batch's coalescing view (db/client.ts getCoalescingDb), so the batch's jobs share round trips.
import type { Db } from "../client";
import { insertAttempt, loadAndClaim, loadWorkspaceForDelivery, markDueAt, recordDelivery, releaseClaim, renewClaim } from "../messages/delivery";
import { failPending } from "../messages/end-pending";
import { findLapsedClaims, findOutboxDue, markEnqueued, nextClaimLapse, releaseDeferredOn } from "../messages/outbox";
import type { Store } from "./store";
import { d1Accept } from "./d1/accept";
import { d1Message } from "./d1/messages";
import { d1Tenant } from "./d1/tenants";
import { d1Audit } from "./d1/audit";
import { d1Recipient } from "./d1/recipients";
import { d1Campaign } from "./d1/campaigns";
import { d1Provider } from "./d1/providers";
import { d1Health } from "./d1/health";
import { d1Llm } from "./d1/llm";
import { d1Webhook } from "./d1/webhooks";
import { d1Inbound } from "./d1/inbound";
import { d1Metrics } from "./d1/metrics";
import { d1Retention } from "./d1/retention";

export function d1Store(db: Db): Store {
  return {
    backend: "d1",
    delivery: {
      loadWorkspace: (ws) => loadWorkspaceForDelivery(db, ws),
      loadAndClaim: (ws, id, at, lease, dueBy) => loadAndClaim(db, ws, id, at, lease, dueBy),
      renewClaim: (ws, id, claimedAt, until) => renewClaim(db, ws, id, claimedAt, until),
      releaseClaim: (ws, id, rows, status, claimedAt) => releaseClaim(db, ws, id, rows, status, claimedAt),
      insertAttempt: (row) => insertAttempt(db, row),
      recordDelivery: (r) => recordDelivery(db, r),
      markDueAt: (ws, id, at) => markDueAt(db, ws, id, at),
      failPending: (ws, id, reason, at) => failPending(db, ws, id, reason, at),
    },
    outbox: {
      due: (now, graceMs, limit) => findOutboxDue(db, now, graceMs, limit),
      lapsedClaims: (now, limit) => findLapsedClaims(db, now, limit),
      nextClaimLapse: (now) => nextClaimLapse(db, now),
      releaseDeferredOn: (ws, providerId, now, limit) => releaseDeferredOn(db, ws, providerId, now, limit),
      markEnqueued: (ids, at) => markEnqueued(db, ids, at),
    },
    accept: d1Accept(db),
    messages: d1Message(db),
    tenants: d1Tenant(db),
    audit: d1Audit(db),
    recipients: d1Recipient(db),
    campaigns: d1Campaign(db),
    providers: d1Provider(db),
    health: d1Health(db),
    llm: d1Llm(db),
    webhooks: d1Webhook(db),
    inbound: d1Inbound(db),
    metrics: d1Metrics(db),
    retention: d1Retention(db),
    close: async () => {},
  };
}
