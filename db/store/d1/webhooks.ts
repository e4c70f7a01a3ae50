// The webhooks group (db/store/webhooks.ts) on D1: db/webhooks.ts, which is its implementation.
import type { Db } from "../../client";
import * as d1 from "../../webhooks";
import type { WebhookStore } from "../webhooks";

export function d1Webhook(db: Db): WebhookStore {
  return {
    insertEndpoint: (ws, row) => d1.insertEndpoint(db, { ...row, workspaceId: ws }),
    listEndpoints: (ws) => d1.listEndpoints(db, ws),
    getEndpoint: (ws, id) => d1.getEndpoint(db, ws, id),
    updateEndpoint: (ws, id, patch, at) => d1.updateEndpoint(db, ws, id, patch, at),
    deleteEndpoint: (ws, id) => d1.deleteEndpoint(db, ws, id),
    subscribedEndpoints: (ws, types) => d1.subscribedEndpoints(db, ws, types),
    insertEvents: (ws, rows) => (rows.length === 0 ? Promise.resolve([]) : d1.insertEvents(db, rows.map((r) => ({ ...r, workspaceId: ws })))),
    eventFacts: (ws, recipientIds, providerId) => d1.eventFacts(db, ws, recipientIds, providerId),
    listEvents: (ws, endpointId, q) => d1.listEvents(db, ws, endpointId, q),
    getEvent: (ws, id) => d1.getEvent(db, ws, id),
    listAttempts: (ws, eventIds) => d1.listAttempts(db, ws, eventIds),
    requeueEvent: (ws, id, at) => d1.requeueEvent(db, ws, id, at),
    dueEvents: async (now, limit) => (await d1.dueEvents(db, now, limit)).map((r) => r.id),
    claimEvent: (id, now, leaseMs) => d1.claimEvent(db, id, now, leaseMs),
    recordAttempt: (r) => d1.recordAttempt(db, r),
    endpointById: (id) => d1.getEndpointById(db, id),
    markEndpointHealth: (id, ok, at) => d1.markEndpointHealth(db, id, ok, at),
    disableEndpoint: (id, reason, at) => d1.disableEndpoint(db, id, reason, at),
    failPendingEvents: (id, reason) => d1.failPendingEvents(db, id, reason),
    putSigningKey: (ws, providerId, enc, at) => d1.putSigningKey(db, ws, providerId, enc, at),
    deleteSigningKey: (ws, providerId) => d1.deleteSigningKey(db, ws, providerId),
    getSigningKey: (providerId) => d1.getSigningKey(db, providerId),
    useToken: (providerId, token, at, keepMs) => d1.useToken(db, providerId, token, at, keepMs),
  };
}
