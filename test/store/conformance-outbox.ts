// Conformance: the outbox (due, lapsedClaims, nextClaimLapse, releaseDeferredOn, markEnqueued).
// Its reads are cross-tenant: the database may hold other tests' messages, so a test looks at its
// own messages among the answer (with a limit large enough for all), and places its rows where
// nobody else's are when the answer is one value (nextClaimLapse) or an order (due).
import { describe, expect, it } from "vitest";
import { open, openMany, sorted, type BackendFactory } from "./conformance-support";

const GRACE = 60_000;
const ALL = 10_000;
const P = "prv_recovered";
const Q = "prv_other";

export function outboxConformance(backend: BackendFactory): void {
  describe("outbox.due", () => {
    it("pending, due (not_before <= now) and not enqueued within the grace; oldest queued first; at most `limit`", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      // queued_at before any real message's (and before earlier runs' of this test): ours come first.
      const base = -now * 100;
      const msg = (i: number, m: Parameters<typeof seed.message>[1]) => seed.message(ws, { queuedAt: base + i, sizeBytes: 100 + i, ...m });
      const notBeforeNow = await msg(0, { recipients: 1, notBefore: now });
      const neverEnqueued = await msg(1, { recipients: 1 });
      const pastGrace = await msg(2, { recipients: 1, enqueuedAt: now - GRACE - 1 });
      const deferred = await msg(3, { recipients: 1, status: "deferred", enqueuedAt: now - GRACE - 5_000 });
      const sending = await msg(4, { recipients: 1, status: "sending" });
      const out = [
        await msg(5, { recipients: 1, enqueuedAt: now - GRACE }),
        await msg(6, { recipients: 1, enqueuedAt: now - 10 }),
        await msg(7, { recipients: 1, notBefore: now + 1 }),
        await msg(8, { recipients: 1, status: "sent" }),
        await msg(9, { recipients: 1, status: "failed" }),
        await msg(10, { recipients: 1, status: "cancelled" }),
        await msg(11, { recipients: 1, status: "partially_failed" }),
      ];
      const inOrder = [notBeforeNow, neverEnqueued, pastGrace, deferred, sending];
      const mine = new Set([...inOrder, ...out].map((m) => m.id));
      const got = (await store.outbox.due(now, GRACE, ALL)).filter((r) => mine.has(r.id));
      expect(got).toEqual(inOrder.map((m, i) => ({ id: m.id, workspaceId: ws, sizeBytes: 100 + i })));
      expect((await store.outbox.due(now, GRACE, 2)).map((r) => r.id)).toEqual([notBeforeNow.id, neverEnqueued.id]);
    });
  });

  describe("outbox.lapsedClaims", () => {
    it("messages with a lapsed `sending` recipient and no job due since it lapsed", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      const sending = (leaseUntil: number | null) => ({ status: "sending" as const, attempts: 1, updatedAt: now - 200_000, leaseUntil });
      const msg = (m: Parameters<typeof seed.message>[1]) => seed.message(ws, { status: "sending", queuedAt: now - 300_000, ...m });
      const lapsed = await msg({ recipients: [sending(now - 10), {}], sizeBytes: 777 });
      const enqueuedBefore = await msg({ recipients: [sending(now - 10)], enqueuedAt: now - 20 });
      const atNow = await msg({ recipients: [sending(now)], status: "deferred" });
      const latestLapse = await msg({ recipients: [sending(now - 100), sending(now - 10)], enqueuedAt: now - 50 });
      const out = [
        await msg({ recipients: [sending(now - 10)], enqueuedAt: now - 5 }),
        await msg({ recipients: [sending(now - 10)], enqueuedAt: now - 10 }),
        await msg({ recipients: [sending(now + 10_000)] }),
        await msg({ recipients: [sending(now - 10)], notBefore: now + 1_000 }),
        await msg({ recipients: [sending(now - 10)], status: "failed" }),
        await msg({ recipients: [sending(null)] }),
        await msg({ recipients: [{ status: "deferred", leaseUntil: now - 10 }] }),
      ];
      const mine = new Set([lapsed, enqueuedBefore, atNow, latestLapse, ...out].map((m) => m.id));
      const got = (await store.outbox.lapsedClaims(now, ALL)).filter((r) => mine.has(r.id));
      expect(sorted(got.map((r) => r.id))).toEqual(sorted([lapsed.id, enqueuedBefore.id, atNow.id, latestLapse.id]));
      expect(got.find((r) => r.id === lapsed.id)).toEqual({ id: lapsed.id, workspaceId: ws, sizeBytes: 777 });
      expect(await store.outbox.lapsedClaims(now, 1)).toHaveLength(1);
    });
  });

  describe("outbox.nextClaimLapse", () => {
    it("the soonest lease of a `sending` recipient after now; null when none is held", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      // Leases far in the future, where no other test's claims are.
      const t = 4e15 + Math.floor(Math.random() * 1e12) * 1_000;
      await seed.message(ws, {
        status: "sending",
        recipients: [
          { status: "sending", leaseUntil: t + 5_000 },
          { status: "sending", leaseUntil: t + 2_000 },
          { status: "deferred", leaseUntil: t + 1_000 },
          { status: "sending", leaseUntil: t },
        ],
      });
      expect(await store.outbox.nextClaimLapse(t)).toBe(t + 2_000);
      expect(await store.outbox.nextClaimLapse(t + 2_000)).toBe(t + 5_000);
      expect(await store.outbox.nextClaimLapse(9e15)).toBeNull();
    });
  });

  describe("outbox.releaseDeferredOn", () => {
    it("releases the workspace's messages waiting on the provider, on every provider, or pinned to it (which they stay)", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      const later = now + 60_000;
      const msg = (waitingOn: string, m: Partial<Parameters<typeof seed.message>[1]> = {}) =>
        seed.message(ws, { recipients: 1, status: "deferred", notBefore: later, waitingOn, queuedAt: now - 1000, ...m });
      const onP = await msg(P, { sizeBytes: 501 });
      const onAny = await msg("*", { sizeBytes: 502 });
      const pinned = await msg(`pin:${P}`, { sizeBytes: 503 });
      const queuedOnP = await msg(P, { status: "queued", sizeBytes: 504 });
      const untouched = [
        await msg(Q),
        await msg(`pin:${Q}`),
        await msg("limit:daily"),
        await msg(P, { notBefore: now }),
        await msg(P, { status: "sent" }),
        await seed.message(await seed.workspace(), { recipients: 1, status: "deferred", notBefore: later, waitingOn: P }),
      ];
      const before = await Promise.all(untouched.map((m) => seed.messageRow(m.id)));
      const got = await store.outbox.releaseDeferredOn(ws, P, now, 100);
      expect([...got].sort((a, b) => a.sizeBytes - b.sizeBytes)).toEqual([
        { id: onP.id, sizeBytes: 501 },
        { id: onAny.id, sizeBytes: 502 },
        { id: pinned.id, sizeBytes: 503 },
        { id: queuedOnP.id, sizeBytes: 504 },
      ]);
      for (const [m, waitingOn] of [
        [onP, null],
        [onAny, null],
        [pinned, `pin:${P}`],
        [queuedOnP, null],
      ] as const) {
        expect(await seed.messageRow(m.id)).toMatchObject({ notBefore: now, enqueuedAt: now, waitingOn });
      }
      expect(await Promise.all(untouched.map((m) => seed.messageRow(m.id)))).toEqual(before);
      expect(await store.outbox.releaseDeferredOn(ws, P, now, 100)).toEqual([]);
    });

    it("at most `limit`, soonest first", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      const [in4, in1, in3, in2] = await Promise.all([4, 1, 3, 2].map((s) => seed.message(ws, { recipients: 1, status: "deferred", waitingOn: P, notBefore: now + s * 1_000 })));
      expect(sorted((await store.outbox.releaseDeferredOn(ws, P, now, 2)).map((r) => r.id))).toEqual(sorted([in1!.id, in2!.id]));
      expect((await seed.messageRow(in3!.id))?.notBefore).toBe(now + 3_000);
      expect(sorted((await store.outbox.releaseDeferredOn(ws, P, now, 2)).map((r) => r.id))).toEqual(sorted([in3!.id, in4!.id]));
      expect(await store.outbox.releaseDeferredOn(ws, P, now, 2)).toEqual([]);
    });

    it("5 callers at once, each on its own store: every message is released exactly once", { timeout: 60_000 }, async () => {
      const { seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      const waiting = await Promise.all(Array.from({ length: 10 }, (_, i) => seed.message(ws, { recipients: 1, status: "deferred", waitingOn: P, notBefore: now + 1_000 + i })));
      const stores = await openMany(backend, 5);
      const released = (await Promise.all(stores.map((s) => s.outbox.releaseDeferredOn(ws, P, now, 3)))).flat().map((r) => r.id);
      // Never twice…
      expect(new Set(released).size).toBe(released.length);
      // …and none left behind: 5 × 3 is room for all 10, and a caller handed fewer than its limit
      // takes it that nothing more waits (the provider's object stops paging: core/routing/release.ts).
      expect(sorted(released)).toEqual(sorted(waiting.map((m) => m.id)));
      for (const m of waiting) expect(await seed.messageRow(m.id)).toMatchObject({ notBefore: now, enqueuedAt: now, waitingOn: null });
    });

    it("two providers of one workspace recovering at once: each releases its own messages", { timeout: 60_000 }, async () => {
      const { seed } = await open(backend);
      const ws = await seed.workspace();
      const now = Date.now();
      const onP = await Promise.all(Array.from({ length: 5 }, (_, i) => seed.message(ws, { recipients: 1, status: "deferred", waitingOn: P, notBefore: now + 1_000 + i })));
      const onQ = await Promise.all(Array.from({ length: 5 }, (_, i) => seed.message(ws, { recipients: 1, status: "deferred", waitingOn: Q, notBefore: now + 1_000 + i })));
      const [sp, sq] = await openMany(backend, 2);
      const [gotP, gotQ] = await Promise.all([sp!.outbox.releaseDeferredOn(ws, P, now, 10), sq!.outbox.releaseDeferredOn(ws, Q, now, 10)]);
      expect(sorted(gotP.map((r) => r.id))).toEqual(sorted(onP.map((m) => m.id)));
      expect(sorted(gotQ.map((r) => r.id))).toEqual(sorted(onQ.map((m) => m.id)));
    });
  });

  describe("outbox.markEnqueued", () => {
    it("stamps every listed message, of any workspace, in any number; nothing else", async () => {
      const { store, seed } = await open(backend);
      const [a, b] = [await seed.workspace(), await seed.workspace()];
      const listed = [await seed.message(a, { recipients: 1 }), await seed.message(a, { recipients: 1, status: "deferred" }), await seed.message(b, { recipients: 1 })];
      const bystander = await seed.message(a, { recipients: 1, enqueuedAt: 42 });
      const at = Date.now();
      const unknown = Array.from({ length: 150 }, (_, i) => `msg_unknown_${i}`);
      await store.outbox.markEnqueued([...unknown.slice(0, 100), ...listed.map((m) => m.id), ...unknown.slice(100)], at);
      for (const m of listed) expect((await seed.messageRow(m.id))?.enqueuedAt).toBe(at);
      expect((await seed.messageRow(bystander.id))?.enqueuedAt).toBe(42);
      await store.outbox.markEnqueued([], at + 1);
      expect((await seed.messageRow(listed[0]!.id))?.enqueuedAt).toBe(at);
    });
  });
}
