// Conformance: the webhooks group (db/store/webhooks.ts). Endpoints and events are the
// workspace's own (another workspace's id is "not found" and left as it is); the delivery loop's
// claim is taken by exactly one of any number of concurrent deliverers until its lease passes; an
// attempt is recorded all or nothing; a provider webhook's token is used once, also when two uses
// race; a signing key is never overwritten by another workspace.
import { describe, expect, it } from "vitest";
import { newId, randomToken } from "../../core/ids";
import type { NewWebhookEvent } from "../../db/store/webhooks";
import { open, openMany, sorted, type BackendFactory } from "./conformance-support";
import { webhookSeeder } from "./seed-webhooks";

const RACERS = 10;

const newEvent = (endpointId: string, extra: Partial<NewWebhookEvent> = {}): NewWebhookEvent => ({
  id: newId("wev"),
  endpointId,
  messageId: null,
  type: "message.sent",
  payload: { type: "message.sent", data: { n: 1 } },
  status: "pending",
  nextAttemptAt: 5,
  ...extra,
});

export function webhooksConformance(backend: BackendFactory): void {
  describe("webhooks: endpoints", () => {
    it("insertEndpoint answers the stored row; getEndpoint and listEndpoints find it only in its workspace", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = newId("whe");
      const row = await store.webhooks.insertEndpoint(ws, { id, url: "https://hooks.example/a", events: ["message.sent", "message.failed"], description: "d", enabled: true, secretEnc: "sealed", createdAt: 1000, updatedAt: 1000 });
      expect(row).toMatchObject({ id, workspaceId: ws, url: "https://hooks.example/a", events: ["message.sent", "message.failed"], description: "d", enabled: true, secretEnc: "sealed", failingSince: null, disabledAt: null, disabledReason: null, createdAt: 1000 });
      expect(await store.webhooks.getEndpoint(ws, id)).toEqual(row);
      expect(await store.webhooks.getEndpoint(other, id)).toBeUndefined();
      expect(await store.webhooks.listEndpoints(other)).toEqual([]);

      const later = await store.webhooks.insertEndpoint(ws, { id: newId("whe"), url: "https://hooks.example/b", events: ["*"], enabled: false, secretEnc: "s2", createdAt: 2000, updatedAt: 2000 });
      const first = await store.webhooks.insertEndpoint(ws, { id: newId("whe"), url: "https://hooks.example/c", events: ["*"], secretEnc: "s3", createdAt: 500, updatedAt: 500 });
      expect(first).toMatchObject({ enabled: true, description: null });
      expect((await store.webhooks.listEndpoints(ws)).map((e) => e.id)).toEqual([first.id, id, later.id]);
      // Without a time the database's clock fills it in.
      const stamped = await store.webhooks.insertEndpoint(ws, { id: newId("whe"), url: "https://hooks.example/d", events: ["*"], secretEnc: "s4" });
      expect(stamped.createdAt).toBeGreaterThan(Date.now() - 60_000);
    });

    it("updateEndpoint changes the workspace's endpoint and answers it; another workspace's id is untouched", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await w.endpoint(ws, { failingSince: 100, createdAt: 50 });
      expect(await store.webhooks.updateEndpoint(other, id, { url: "https://evil.example/" }, 999)).toBeUndefined();
      expect(await w.endpointRow(id)).toMatchObject({ url: `https://hooks.example/${id}`, updatedAt: 50 });

      const row = await store.webhooks.updateEndpoint(ws, id, { url: "https://hooks.example/new", events: ["message.bounced"], enabled: false, description: null, failingSince: null, disabledAt: 7, disabledReason: "why" }, 1234);
      expect(row).toMatchObject({ id, url: "https://hooks.example/new", events: ["message.bounced"], enabled: false, failingSince: null, disabledAt: 7, disabledReason: "why", updatedAt: 1234, createdAt: 50 });
      expect(await w.endpointRow(id)).toMatchObject({ url: "https://hooks.example/new", enabled: false, disabledAt: 7, updatedAt: 1234 });
      expect(await store.webhooks.updateEndpoint(ws, "whe_missing", { enabled: true }, 1)).toBeUndefined();
    });

    it("deleteEndpoint removes only the workspace's endpoint, once", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await w.endpoint(ws);
      expect(await store.webhooks.deleteEndpoint(other, id)).toBe(false);
      expect(await w.endpointRow(id)).toBeDefined();
      expect(await store.webhooks.deleteEndpoint(ws, id)).toBe(true);
      expect(await w.endpointRow(id)).toBeUndefined();
      expect(await store.webhooks.deleteEndpoint(ws, id)).toBe(false);
    });

    it("subscribedEndpoints: the workspace's enabled endpoints subscribed to one of the types or to *", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const all = await w.endpoint(ws, { events: ["*"] });
      const sent = await w.endpoint(ws, { events: ["message.sent"] });
      await w.endpoint(ws, { events: ["message.failed"] });
      await w.endpoint(ws, { events: ["*"], enabled: false });
      await w.endpoint(other, { events: ["*"] });
      expect(sorted((await store.webhooks.subscribedEndpoints(ws, ["message.sent", "message.queued"])).map((e) => e.id))).toEqual(sorted([all, sent]));
      expect((await store.webhooks.subscribedEndpoints(ws, ["message.opened"])).map((e) => e.id)).toEqual([all]);
    });

    it("endpointById finds an endpoint by id alone (the delivery loop's look-up)", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const id = await webhookSeeder(exec).endpoint(ws, { events: ["message.sent"] });
      expect(await store.webhooks.endpointById(id)).toMatchObject({ id, workspaceId: ws, events: ["message.sent"], enabled: true, secretEnc: "sealed" });
      expect(await store.webhooks.endpointById("whe_missing")).toBeUndefined();
    });
  });

  describe("webhooks: events", () => {
    it("insertEvents answers the rows as stored, in order (many rows: more than one statement's worth)", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const ep = await w.endpoint(ws);
      expect(await store.webhooks.insertEvents(ws, [])).toEqual([]);
      const rows = Array.from({ length: 105 }, (_, i) => newEvent(ep, { createdAt: 10_000 + i, nextAttemptAt: 20_000 + i, payload: { i } }));
      const stored = await store.webhooks.insertEvents(ws, rows);
      expect(stored.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      expect(stored[7]).toEqual({
        id: rows[7]!.id,
        workspaceId: ws,
        endpointId: ep,
        messageId: null,
        type: "message.sent",
        payload: { i: 7 },
        status: "pending",
        attempts: 0,
        nextAttemptAt: 20_007,
        lastError: null,
        lastStatusCode: null,
        deliveredAt: null,
        createdAt: 10_007,
      });
      const failed = await store.webhooks.insertEvents(ws, [newEvent(ep, { type: "endpoint.disabled", status: "failed", lastError: "off", nextAttemptAt: undefined })]);
      expect(failed[0]).toMatchObject({ status: "failed", lastError: "off", nextAttemptAt: null });
      expect(failed[0]!.createdAt).toBeGreaterThan(Date.now() - 60_000);
    });

    it("listEvents: the endpoint's events newest first, by status, after a cursor, at most the limit; nothing of another workspace", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const ep = await w.endpoint(ws);
      const ids = [];
      for (const [i, status] of (["pending", "delivered", "failed", "delivered", "failed"] as const).entries()) ids.push(await w.event(ws, ep, { status, createdAt: 1000 + i }));
      // Same time as the last: the id breaks the tie.
      const tie = await w.event(ws, ep, { status: "delivered", createdAt: 1004 });
      await w.event(ws, await w.endpoint(ws), { createdAt: 1003 });
      const newestFirst = [...[ids[4]!, tie].sort().reverse(), ids[3], ids[2], ids[1], ids[0]];
      expect((await store.webhooks.listEvents(ws, ep, { limit: 50 })).map((e) => e.id)).toEqual(newestFirst);
      expect((await store.webhooks.listEvents(ws, ep, { limit: 2 })).map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
      const third = await store.webhooks.getEvent(ws, newestFirst[2]!);
      expect((await store.webhooks.listEvents(ws, ep, { limit: 50, before: { createdAt: third!.createdAt, id: third!.id } })).map((e) => e.id)).toEqual(newestFirst.slice(3));
      const cutAtTie = newestFirst[0]!;
      expect((await store.webhooks.listEvents(ws, ep, { limit: 50, before: { createdAt: 1004, id: cutAtTie } })).map((e) => e.id)).toEqual(newestFirst.slice(1));
      expect((await store.webhooks.listEvents(ws, ep, { limit: 50, status: "failed" })).map((e) => e.id)).toEqual([ids[4], ids[2]]);
      expect(await store.webhooks.listEvents(other, ep, { limit: 50 })).toEqual([]);
    });

    it("getEvent and requeueEvent: the workspace's event only; a replay is pending and due at once", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const ep = await w.endpoint(ws);
      const id = await w.event(ws, ep, { status: "failed", nextAttemptAt: null, attempts: 9 });
      expect(await store.webhooks.getEvent(ws, id)).toMatchObject({ id, workspaceId: ws, endpointId: ep, status: "failed", attempts: 9 });
      expect(await store.webhooks.getEvent(other, id)).toBeUndefined();
      expect(await store.webhooks.requeueEvent(other, id, 5000)).toBeUndefined();
      expect(await w.eventRow(id)).toMatchObject({ status: "failed", nextAttemptAt: null });
      expect(await store.webhooks.requeueEvent(ws, id, 5000)).toMatchObject({ id, status: "pending", nextAttemptAt: 5000, attempts: 9 });
      expect(await w.eventRow(id)).toMatchObject({ status: "pending", nextAttemptAt: 5000 });
      expect(await store.webhooks.requeueEvent(ws, "wev_missing", 5000)).toBeUndefined();
    });

    it("listAttempts: the workspace's attempts of the events, by event then attempt", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const ep = await w.endpoint(ws);
      const [a, b] = [await w.event(ws, ep), await w.event(ws, ep)].sort();
      await w.attempt(ws, ep, b!, 2);
      await w.attempt(ws, ep, a!, 2);
      await w.attempt(ws, ep, b!, 1);
      await w.attempt(ws, ep, a!, 1);
      expect(await store.webhooks.listAttempts(ws, [])).toEqual([]);
      const got = await store.webhooks.listAttempts(ws, [a!, b!]);
      expect(got.map((r) => [r.eventId, r.attempt])).toEqual([[a, 1], [a, 2], [b, 1], [b, 2]]);
      expect(got[0]).toMatchObject({ workspaceId: ws, endpointId: ep, statusCode: 500, latencyMs: 10, error: "boom", nextAttemptAt: null });
      expect(await store.webhooks.listAttempts(other, [a!, b!])).toEqual([]);
    });

    it("eventFacts: the workspace's recipients' attempt counts and its provider's type", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const prv = await seed.provider(ws, { type: "mailgun" });
      const foreignPrv = await seed.provider(other, { type: "smtp" });
      const m = await seed.message(ws, { recipients: [{ status: "sent", attempts: 2 }, { status: "failed", attempts: 3 }] });
      const theirs = await seed.message(other, { recipients: [{ attempts: 4 }] });
      const facts = await store.webhooks.eventFacts(ws, [...m.recipientIds, ...theirs.recipientIds], prv);
      expect(facts.attemptOf).toEqual(new Map([[m.recipientIds[0]!, 2], [m.recipientIds[1]!, 3]]));
      expect(facts.providerType).toBe("mailgun");
      expect((await store.webhooks.eventFacts(ws, [], foreignPrv)).providerType).toBeNull();
      expect(await store.webhooks.eventFacts(ws, m.recipientIds.slice(0, 1), null)).toEqual({ attemptOf: new Map([[m.recipientIds[0]!, 2]]), providerType: null });
    });
  });

  describe("webhooks: the delivery loop", () => {
    it("dueEvents: pending events whose next attempt is reached, the longest waiting first, at most the limit", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const ep = await w.endpoint(ws);
      // Cross-tenant: other cases' events are due too, so only this case's are looked at.
      const late = await w.event(ws, ep, { nextAttemptAt: 3000 });
      const early = await w.event(ws, ep, { nextAttemptAt: 2000 });
      const now = await w.event(ws, ep, { nextAttemptAt: 4000 });
      const future = await w.event(ws, ep, { nextAttemptAt: 4001 });
      const delivered = await w.event(ws, ep, { status: "delivered", nextAttemptAt: 10 });
      const failed = await w.event(ws, ep, { status: "failed", nextAttemptAt: 10 });
      const mine = new Set([late, early, now, future, delivered, failed]);
      const due = await store.webhooks.dueEvents(4000, 100_000);
      expect(due.filter((id) => mine.has(id))).toEqual([early, late, now]);
      expect((await store.webhooks.dueEvents(4000, 2)).length).toBe(2);
    });

    it("claimEvent: one claim until the lease passes; never an event that is not pending or not due", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const ep = await w.endpoint(ws);
      const id = await w.event(ws, ep, { nextAttemptAt: 1000, attempts: 1 });
      const got = await store.webhooks.claimEvent(id, 2000, 90_000);
      expect(got).toMatchObject({ id, workspaceId: ws, endpointId: ep, status: "pending", attempts: 1, nextAttemptAt: 92_000 });
      expect(await store.webhooks.claimEvent(id, 2001, 90_000)).toBeUndefined();
      expect(await store.webhooks.claimEvent(id, 91_999, 90_000)).toBeUndefined();
      expect(await store.webhooks.claimEvent(id, 92_000, 90_000)).toMatchObject({ id, nextAttemptAt: 182_000 });
      const future = await w.event(ws, ep, { nextAttemptAt: 5000 });
      expect(await store.webhooks.claimEvent(future, 4999, 90_000)).toBeUndefined();
      expect(await w.eventRow(future)).toMatchObject({ nextAttemptAt: 5000 });
      const unscheduled = await w.event(ws, ep, { nextAttemptAt: null });
      expect(await store.webhooks.claimEvent(unscheduled, 1, 10)).toMatchObject({ nextAttemptAt: 11 });
      for (const status of ["delivered", "failed"] as const) expect(await store.webhooks.claimEvent(await w.event(ws, ep, { status, nextAttemptAt: 1 }), 2000, 10)).toBeUndefined();
      expect(await store.webhooks.claimEvent("wev_missing", 2000, 10)).toBeUndefined();
    });

    it(`claimEvent: of ${RACERS} concurrent deliverers exactly one gets the event`, async () => {
      const { seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const id = await w.event(ws, await w.endpoint(ws), { nextAttemptAt: 1000 });
      const stores = await openMany(backend, RACERS);
      const got = await Promise.all(stores.map((s) => s.webhooks.claimEvent(id, 2000, 90_000)));
      expect(got.filter((g) => g !== undefined)).toHaveLength(1);
      expect(await w.eventRow(id)).toMatchObject({ nextAttemptAt: 92_000 });
    });

    it("recordAttempt: the attempt row and the event's new state; all or nothing", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const ep = await w.endpoint(ws);
      const id = await w.event(ws, ep, { attempts: 0 });
      const event = (await store.webhooks.getEvent(ws, id))!;
      const attempt = (n: number, statusCode: number | null, error: string | null, next: number | null) => ({
        id: `wat_${randomToken(16)}`,
        eventId: id,
        workspaceId: ws,
        endpointId: ep,
        attempt: n,
        statusCode,
        latencyMs: 20,
        error,
        nextAttemptAt: next,
        createdAt: 1000 * n,
      });
      const failing = attempt(1, 503, "endpoint answered 503", 9000);
      await store.webhooks.recordAttempt({ event, attempt: failing, status: "pending", nextAttemptAt: 9000, lastError: "endpoint answered 503", at: 1000 });
      expect(await w.eventRow(id)).toEqual({ status: "pending", attempts: 1, nextAttemptAt: 9000, lastError: "endpoint answered 503", lastStatusCode: 503, deliveredAt: null });

      // The same attempt id again: the insert fails, and the event is left as it was.
      await expect(store.webhooks.recordAttempt({ event, attempt: { ...attempt(2, 200, null, null), id: failing.id }, status: "delivered", nextAttemptAt: null, lastError: null, at: 2000 })).rejects.toThrow();
      expect(await w.eventRow(id)).toMatchObject({ status: "pending", attempts: 1, deliveredAt: null });

      await store.webhooks.recordAttempt({ event, attempt: attempt(2, 200, null, null), status: "delivered", nextAttemptAt: null, lastError: null, at: 2000 });
      expect(await w.eventRow(id)).toEqual({ status: "delivered", attempts: 2, nextAttemptAt: null, lastError: null, lastStatusCode: 200, deliveredAt: 2000 });
      expect(await w.attemptsOf(id)).toEqual([
        { attempt: 1, statusCode: 503, error: "endpoint answered 503" },
        { attempt: 2, statusCode: 200, error: null },
      ]);
    });

    it("markEndpointHealth: failing since the first failure, healthy again after a success", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const id = await w.endpoint(ws);
      expect(await store.webhooks.markEndpointHealth(id, false, 1000)).toMatchObject({ id, failingSince: 1000 });
      expect(await store.webhooks.markEndpointHealth(id, false, 2000)).toMatchObject({ id, failingSince: 1000 });
      expect(await store.webhooks.markEndpointHealth(id, true, 3000)).toMatchObject({ id, failingSince: null });
      expect(await w.endpointRow(id)).toMatchObject({ failingSince: null });
      expect(await store.webhooks.markEndpointHealth("whe_missing", false, 1)).toBeUndefined();
    });

    it("disableEndpoint once; failPendingEvents gives up only that endpoint's pending events", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const id = await w.endpoint(ws);
      const sibling = await w.endpoint(ws);
      expect(await store.webhooks.disableEndpoint(id, "no success for 5 days", 7000)).toBe(true);
      expect(await w.endpointRow(id)).toMatchObject({ enabled: false, disabledAt: 7000, disabledReason: "no success for 5 days", updatedAt: 7000 });
      expect(await store.webhooks.disableEndpoint(id, "again", 8000)).toBe(false);
      expect(await w.endpointRow(id)).toMatchObject({ disabledAt: 7000, disabledReason: "no success for 5 days" });

      const pending = await w.event(ws, id, { nextAttemptAt: 100 });
      const delivered = await w.event(ws, id, { status: "delivered", nextAttemptAt: null });
      const elsewhere = await w.event(ws, sibling, { nextAttemptAt: 100 });
      await store.webhooks.failPendingEvents(id, "endpoint disabled");
      expect(await w.eventRow(pending)).toMatchObject({ status: "failed", lastError: "endpoint disabled", nextAttemptAt: null });
      expect(await w.eventRow(delivered)).toMatchObject({ status: "delivered", lastError: null });
      expect(await w.eventRow(elsewhere)).toMatchObject({ status: "pending", nextAttemptAt: 100 });
    });
  });

  describe("webhooks: provider signing keys and replay tokens", () => {
    it("putSigningKey sets and replaces the workspace's key; getSigningKey by provider; deleteSigningKey only the workspace's", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const prv = await seed.provider(ws, { type: "mailgun" });
      expect(await store.webhooks.getSigningKey(prv)).toBeUndefined();
      await store.webhooks.putSigningKey(ws, prv, "enc-1", 1000);
      expect(await store.webhooks.getSigningKey(prv)).toEqual({ providerId: prv, workspaceId: ws, signingKeyEnc: "enc-1", createdAt: 1000, updatedAt: 1000 });
      await store.webhooks.putSigningKey(ws, prv, "enc-2", 2000);
      expect(await store.webhooks.getSigningKey(prv)).toEqual({ providerId: prv, workspaceId: ws, signingKeyEnc: "enc-2", createdAt: 1000, updatedAt: 2000 });

      // Another workspace naming this provider's id changes nothing.
      await store.webhooks.putSigningKey(other, prv, "enc-evil", 3000);
      expect(await w.signingKeyRow(prv)).toEqual({ workspaceId: ws, signingKeyEnc: "enc-2", updatedAt: 2000 });
      expect(await store.webhooks.deleteSigningKey(other, prv)).toBe(false);
      expect(await w.signingKeyRow(prv)).toBeDefined();

      expect(await store.webhooks.deleteSigningKey(ws, prv)).toBe(true);
      expect(await store.webhooks.getSigningKey(prv)).toBeUndefined();
      expect(await store.webhooks.deleteSigningKey(ws, prv)).toBe(false);
    });

    it("useToken: a token is used once per provider; one older than the window is pruned and may be used again", async () => {
      const { store, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const prv = newId("prv");
      const elsewhere = newId("prv");
      const at = Date.now();
      expect(await store.webhooks.useToken(prv, "tok-a", at, 600_000)).toBe(true);
      expect(await store.webhooks.useToken(prv, "tok-a", at + 1, 600_000)).toBe(false);
      expect(await store.webhooks.useToken(elsewhere, "tok-a", at, 600_000)).toBe(true);
      expect(await store.webhooks.useToken(prv, "tok-b", at + 2, 600_000)).toBe(true);
      expect(await w.tokens(prv)).toEqual(["tok-a", "tok-b"]);
      // The window has passed for both of prv's tokens (created at `at` and `at` + 2).
      expect(await store.webhooks.useToken(prv, "tok-a", at + 600_002, 600_000)).toBe(true);
      expect(await w.tokens(prv)).toEqual(["tok-a"]);
    });

    it(`useToken: of ${RACERS} concurrent uses of one token exactly one is accepted`, async () => {
      await open(backend);
      const prv = newId("prv");
      const at = Date.now();
      const stores = await openMany(backend, RACERS);
      const got = await Promise.all(stores.map((s, i) => s.webhooks.useToken(prv, "raced", at + i, 600_000)));
      expect(got.filter(Boolean)).toHaveLength(1);
    });
  });
}
