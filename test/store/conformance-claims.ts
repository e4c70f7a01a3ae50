// Conformance: the claim (delivery.loadAndClaim, renewClaim, releaseClaim). A recipient is never
// handed to two consumers; `sent` and other final statuses are never taken; a live `sending` claim
// is never taken over, a lapsed one is; nothing is claimed early; the first lease covers the
// longest provider deadline; only the claim's holder renews or hands it back.
import { describe, expect, it } from "vitest";
import { LEASE, open, openMany, sorted, type BackendFactory } from "./conformance-support";

const CLAIMERS = 20;

export function claimConformance(backend: BackendFactory): void {
  describe("delivery.loadAndClaim", () => {
    it("claims a queued message's recipients: the message and its recipients as read before, the claimed rows after", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { recipients: 3, sizeBytes: 4321 });
      const at = Date.now();
      const got = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      expect(got?.message).toMatchObject({ id: m.id, workspaceId: ws, status: "queued", toEmails: m.emails, sizeBytes: 4321, forceSend: false, notBefore: null, attemptCount: 0 });
      expect(sorted(got!.recipients.map((r) => `${r.id} ${r.status} ${r.attempts}`))).toEqual(sorted(m.recipientIds.map((id) => `${id} queued 0`)));
      expect(sorted(got!.claimed.map((r) => r.id))).toEqual(sorted(m.recipientIds));
      for (const r of got!.claimed) expect(r).toMatchObject({ messageId: m.id, workspaceId: ws, status: "sending", attempts: 1, updatedAt: at, leaseUntil: at + 30_000 });
      expect(await seed.recipients(m.id)).toMatchObject(m.recipientIds.map((id) => ({ id, status: "sending", attempts: 1, updatedAt: at, leaseUntil: at + 30_000 })));
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "sending", updatedAt: at });
    });

    it("claims only pending recipients: never sent, delivered, failed or cancelled ones", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, {
        status: "deferred",
        recipients: [{ status: "queued" }, { status: "deferred", attempts: 2 }, { status: "sent", attempts: 1 }, { status: "delivered", attempts: 1 }, { status: "failed", attempts: 3 }, { status: "cancelled" }],
        queuedAt: at - 1000,
      });
      const got = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      expect(sorted(got!.claimed.map((r) => r.id))).toEqual(sorted(m.recipientIds.slice(0, 2)));
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual([
        ["sending", 1, at + 30_000],
        ["sending", 3, at + 30_000],
        ["sent", 1, null],
        ["delivered", 1, null],
        ["failed", 3, null],
        ["cancelled", 0, null],
      ]);
      expect((await seed.messageRow(m.id))?.status).toBe("sending");
    });

    it("a finished message: claims nothing and leaves it as it is", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { status: "sent", recipients: [{ status: "sent", attempts: 1 }, { status: "sent", attempts: 1 }], queuedAt: at - 5000 });
      const got = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      expect(got?.message.id).toBe(m.id);
      expect(got?.claimed).toEqual([]);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.updatedAt])).toEqual([
        ["sent", 1, at - 5000],
        ["sent", 1, at - 5000],
      ]);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "sent", updatedAt: at - 5000 });
    });

    it("takes over a lapsed `sending` claim (lease_until <= at, or a legacy claim 2 minutes old), never a live one", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const old = at - 60_000;
      const m = await seed.message(ws, {
        status: "sending",
        recipients: [
          { status: "sending", attempts: 1, updatedAt: old, leaseUntil: at - 1 },
          { status: "sending", attempts: 1, updatedAt: old, leaseUntil: at },
          { status: "sending", attempts: 1, updatedAt: old, leaseUntil: at + 1 },
          { status: "sending", attempts: 1, updatedAt: at - 120_000, leaseUntil: null },
          { status: "sending", attempts: 1, updatedAt: at - 119_999, leaseUntil: null },
        ],
      });
      const got = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const ids = m.recipientIds;
      expect(sorted(got!.claimed.map((r) => r.id))).toEqual(sorted([ids[0], ids[1], ids[3]]));
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.updatedAt, r.leaseUntil])).toEqual([
        ["sending", 2, at, at + 30_000],
        ["sending", 2, at, at + 30_000],
        ["sending", 1, old, at + 1],
        ["sending", 2, at, at + 30_000],
        ["sending", 1, at - 119_999, null],
      ]);
    });

    it("claims nothing before not_before (a job that arrived early), and everything once it is due", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { status: "deferred", recipients: [{ status: "deferred", attempts: 1 }, {}], notBefore: at + 10_000, queuedAt: at - 1000 });
      const early = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at + 9_999);
      expect(early?.message.id).toBe(m.id);
      expect(early?.message.notBefore).toBe(at + 10_000);
      expect(early?.claimed).toEqual([]);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual([
        ["deferred", 1, null],
        ["queued", 0, null],
      ]);
      expect((await seed.messageRow(m.id))?.status).toBe("deferred");
      const due = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at + 10_000);
      expect(due?.claimed).toHaveLength(2);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts])).toEqual([
        ["sending", 2],
        ["sending", 1],
      ]);
      expect((await seed.messageRow(m.id))?.status).toBe("sending");
    });

    it("the first lease is the margin plus the longest deadline of the workspace's enabled providers", async () => {
      const { store, seed } = await open(backend);
      const at = Date.now();
      const leaseOf = async (ws: string) => {
        const m = await seed.message(ws, { recipients: 2 });
        const got = await store.delivery.loadAndClaim(ws, m.id, at, LEASE, at);
        expect(got?.claimed).toHaveLength(2);
        const rows = await seed.recipients(m.id);
        expect(new Set(got!.claimed.map((r) => r.leaseUntil))).toEqual(new Set(rows.map((r) => r.leaseUntil)));
        return rows[0]!.leaseUntil! - at;
      };
      // Configured timeouts: the longest enabled one; a disabled provider and another workspace's do not count.
      const a = await seed.workspace();
      await seed.provider(a, { type: "mailgun", config: { timeout_ms: 7_000 } });
      await seed.provider(a, { type: "smtp", config: { timeout_ms: 12_000, host: "smtp.example" } });
      await seed.provider(a, { type: "sandbox", status: "disabled", config: { timeout_ms: 99_000 } });
      await seed.provider(await seed.workspace(), { type: "smtp", config: { timeout_ms: 500_000 } });
      expect(await leaseOf(a)).toBe(4_000 + 12_000);
      // A provider without timeout_ms has its type's default (the lease's defaultDeadlineMs).
      const b = await seed.workspace();
      await seed.provider(b, { type: "gmail" });
      await seed.provider(b, { type: "smtp", config: { timeout_ms: 1_000 } });
      expect(await leaseOf(b)).toBe(4_000 + 61_000);
      const c = await seed.workspace();
      await seed.provider(c, { type: "mailgun", config: { region: "eu" } });
      await seed.provider(c, { type: "gmail", status: "disabled" });
      expect(await leaseOf(c)).toBe(4_000 + 31_000);
      // No enabled provider: the default deadline.
      const d = await seed.workspace();
      await seed.provider(d, { type: "gmail", status: "disabled", config: { timeout_ms: 70_000 } });
      expect(await leaseOf(d)).toBe(4_000 + 31_000);
      // A number is a fixed lease.
      const m = await seed.message(a, { recipients: 1 });
      await store.delivery.loadAndClaim(a, m.id, at, 45_678, at);
      expect((await seed.recipients(m.id))[0]?.leaseUntil).toBe(at + 45_678);
    });

    it("an unknown message is not found", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      expect(await store.delivery.loadAndClaim(ws, "msg_does_not_exist", Date.now(), 30_000, Date.now())).toBeUndefined();
    });

    describe(`${CLAIMERS} consumers claim the same job at once, each on its own store`, { timeout: 60_000 }, () => {
      it("exactly one gets every recipient, the others none", async () => {
        const { seed } = await open(backend);
        const ws = await seed.workspace();
        const m = await seed.message(ws, { recipients: 5 });
        const stores = await openMany(backend, CLAIMERS);
        const at = Date.now();
        const results = await Promise.all(stores.map((s, i) => s.delivery.loadAndClaim(ws, m.id, at + i, 30_000, at + i)));
        expect(results.every((r) => r?.message.id === m.id)).toBe(true);
        const winners = results.flatMap((r, i) => (r!.claimed.length > 0 ? [i] : []));
        expect(winners).toHaveLength(1);
        const w = winners[0]!;
        expect(sorted(results[w]!.claimed.map((r) => r.id))).toEqual(sorted(m.recipientIds));
        expect(results.filter((r) => r!.claimed.length === 0)).toHaveLength(CLAIMERS - 1);
        expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.updatedAt, r.leaseUntil])).toEqual(
          m.recipientIds.map(() => ["sending", 1, at + w, at + w + 30_000]),
        );
      });

      it("a lapsed claim is taken over by exactly one of them", async () => {
        const { seed } = await open(backend);
        const ws = await seed.workspace();
        const at = Date.now();
        const lapsed = { status: "sending" as const, attempts: 1, updatedAt: at - 60_000, leaseUntil: at - 1 };
        const m = await seed.message(ws, { status: "sending", recipients: [lapsed, lapsed, lapsed] });
        const stores = await openMany(backend, CLAIMERS);
        const results = await Promise.all(stores.map((s, i) => s.delivery.loadAndClaim(ws, m.id, at + i, 30_000, at + i)));
        const winners = results.flatMap((r, i) => (r!.claimed.length > 0 ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(results[winners[0]!]!.claimed).toHaveLength(3);
        expect((await seed.recipients(m.id)).map((r) => [r.attempts, r.updatedAt])).toEqual(m.recipientIds.map(() => [2, at + winners[0]!]));
      });
    });
  });

  describe("delivery.renewClaim", () => {
    it("extends the holder's claim, never shortens it, and says which recipients it still holds", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { recipients: 4 });
      const at = Date.now();
      await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const [r0, r1, r2, r3] = m.recipientIds as [string, string, string, string];
      const leases = async () => (await seed.recipients(m.id)).map((r) => r.leaseUntil);

      expect(sorted(await store.delivery.renewClaim(ws, m.id, at, at + 60_000))).toEqual(sorted(m.recipientIds));
      expect(await leases()).toEqual([at + 60_000, at + 60_000, at + 60_000, at + 60_000]);
      // Shorter than the lease: kept as it is, still held.
      expect(sorted(await store.delivery.renewClaim(ws, m.id, at, at + 10_000))).toEqual(sorted(m.recipientIds));
      expect(await leases()).toEqual([at + 60_000, at + 60_000, at + 60_000, at + 60_000]);
      // Another claim's stamp: nothing held, nothing changed.
      expect(await store.delivery.renewClaim(ws, m.id, at - 1, at + 90_000)).toEqual(new Set());
      expect(await leases()).toEqual([at + 60_000, at + 60_000, at + 60_000, at + 60_000]);

      // r0 taken over by another consumer, r1 recorded sent, r2 without a lease (a legacy claim).
      await seed.setRecipient(r0, { updatedAt: at + 5, leaseUntil: at + 99_999 });
      await seed.setRecipient(r1, { status: "sent", leaseUntil: null });
      await seed.setRecipient(r2, { leaseUntil: null });
      expect(sorted(await store.delivery.renewClaim(ws, m.id, at, at + 70_000))).toEqual(sorted([r2, r3]));
      expect(await leases()).toEqual([at + 99_999, null, at + 70_000, at + 70_000]);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.updatedAt])).toEqual([
        ["sending", at + 5],
        ["sent", at],
        ["sending", at],
        ["sending", at],
      ]);
    });
  });

  describe("delivery.releaseClaim", () => {
    it("hands the claim back: each recipient to its earlier status (a lapsed `sending` as deferred), its attempt uncounted", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, {
        status: "deferred",
        recipients: [{ status: "queued" }, { status: "deferred", attempts: 2 }, { status: "sending", attempts: 1, updatedAt: at - 60_000, leaseUntil: at - 1 }, { status: "sent", attempts: 1 }],
        queuedAt: at - 100_000,
      });
      const got = await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      expect(got?.claimed).toHaveLength(3);
      const before = new Map(got!.recipients.map((r) => [r.id, r.status]));
      const rows = got!.claimed.map((r) => ({ id: r.id, status: before.get(r.id)! }));
      await store.delivery.releaseClaim(ws, m.id, rows, got!.message.status, at);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual([
        ["queued", 0, null],
        ["deferred", 2, null],
        ["deferred", 1, null],
        ["sent", 1, null],
      ]);
      expect((await seed.messageRow(m.id))?.status).toBe("deferred");
    });

    it("touches only rows still carrying the claim; a message that was `sending` goes back as deferred", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { recipients: 3 });
      await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const [r0, r1, r2] = m.recipientIds as [string, string, string];
      await seed.setRecipient(r1, { updatedAt: at + 7, leaseUntil: at + 50_000 }); // taken over
      await seed.setRecipient(r2, { status: "sent", leaseUntil: null }); // recorded
      const rows = [r0, r1, r2].map((id) => ({ id, status: "queued" as const }));
      await store.delivery.releaseClaim(ws, m.id, rows, "sending", at);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual([
        ["queued", 0, null],
        ["sending", 1, at + 50_000],
        ["sent", 1, null],
      ]);
      expect((await seed.messageRow(m.id))?.status).toBe("deferred");
      // A message whose claim stamp is another's is left alone.
      const n = await seed.message(ws, { recipients: 1 });
      await store.delivery.loadAndClaim(ws, n.id, at, 30_000, at);
      await store.delivery.releaseClaim(ws, n.id, [{ id: n.recipientIds[0]!, status: "queued" }], "queued", at - 1);
      expect((await seed.recipients(n.id)).map((r) => [r.status, r.attempts])).toEqual([["sending", 1]]);
      expect((await seed.messageRow(n.id))?.status).toBe("sending");
    });

    it("never counts attempts below zero; no rows is a no-op", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { status: "sending", recipients: [{ status: "sending", attempts: 0, updatedAt: at, leaseUntil: at + 30_000 }], updatedAt: at });
      await store.delivery.releaseClaim(ws, m.id, [], "queued", at);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts])).toEqual([["sending", 0]]);
      expect((await seed.messageRow(m.id))?.status).toBe("sending");
      await store.delivery.releaseClaim(ws, m.id, [{ id: m.recipientIds[0]!, status: "queued" }], "queued", at);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual([["queued", 0, null]]);
      expect((await seed.messageRow(m.id))?.status).toBe("queued");
    });
  });
}
