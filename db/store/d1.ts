// The store on D1: the db/messages/* functions over one Db. Inside a queue batch that Db is the
// batch's coalescing view (db/client.ts getCoalescingDb), so the batch's jobs share round trips.
import type { Db } from "../client";
import { insertAttempt, loadAndClaim, loadWorkspaceForDelivery, markDueAt, recordDelivery, releaseClaim, renewClaim } from "../messages/delivery";
import { failPending } from "../messages/end-pending";
import { findLapsedClaims, findOutboxDue, markEnqueued, nextClaimLapse, releaseDeferredOn } from "../messages/outbox";
import type { Store } from "./store";

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
    close: async () => {},
  };
}
