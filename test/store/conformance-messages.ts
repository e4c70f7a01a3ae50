// Conformance: the messages group (db/store/messages.ts). A message's detail carries its
// recipients, attempts (by start) and attachments; the list is newest first with exact tag,
// status, time and cursor filters; cancel ends only what no provider holds and re-derives the
// message status. Another workspace's message is not found and never changed.
import { describe, expect, it } from "vitest";
import { attempt, open, sorted, type BackendFactory } from "./conformance-support";
import { acceptSeeds } from "./seed-accept";

export function messagesConformance(backend: BackendFactory): void {
  describe("messages.message", () => {
    it("the message with its recipients, attempts by start time and attachments; another workspace's is undefined", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { recipients: 2, sizeBytes: 999 });
      const at = Date.now();
      await store.delivery.insertAttempt(attempt(ws, m.id, at, { id: "da_late", startedAt: at - 5 }));
      await store.delivery.insertAttempt(attempt(ws, m.id, at, { id: "da_early", startedAt: at - 50 }));
      const att = await a.attachment(ws, m.id, 77);
      await a.setTags(m.id, ["reminder"]);
      const d = await store.messages.message(ws, m.id);
      expect(d?.message).toMatchObject({ id: m.id, workspaceId: ws, status: "queued", toEmails: m.emails, tags: ["reminder"], metadata: {}, sizeBytes: 999, forceSend: false, containsPhi: false });
      expect(sorted(d!.recipients.map((r) => `${r.id} ${r.email} ${r.status}`))).toEqual(sorted(m.recipientIds.map((id, i) => `${id} ${m.emails[i]} queued`)));
      expect(d!.attempts.map((x) => x.id)).toEqual(["da_early", "da_late"]);
      expect(d!.attempts[0]).toMatchObject({ recipients: ["r@example.net"], outcome: "sent", latencyMs: 12 });
      expect(d!.attachments).toMatchObject([{ id: att, messageId: m.id, contentType: "application/pdf", sizeBytes: 77, contentId: null }]);
      expect(await store.messages.message(other, m.id)).toBeUndefined();
      expect(await store.messages.message(ws, "msg_missing")).toBeUndefined();
    });
  });

  describe("messages.list", () => {
    it("newest first by (queued_at, id), filtered by status, exact tag, time range and cursor; only the workspace's", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const t = 1_700_000_000_000;
      const m1 = await seed.message(ws, { recipients: 1, queuedAt: t });
      const m2 = await seed.message(ws, { recipients: 1, queuedAt: t + 10, status: "sent" });
      const m3 = await seed.message(ws, { recipients: 1, queuedAt: t + 10 });
      const m4 = await seed.message(ws, { recipients: 1, queuedAt: t + 20, status: "failed" });
      const o = await seed.message(other, { recipients: 1, queuedAt: t + 15 });
      await a.setTags(m1.id, ["reminder", "north"]);
      await a.setTags(m3.id, ["reminders"]);
      await a.setTags(o.id, ["reminder"]);
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
      const [hi, lo] = [m2.id, m3.id].sort().reverse();
      expect(ids(await store.messages.list(ws, { limit: 10 }))).toEqual([m4.id, hi, lo, m1.id]);
      expect(ids(await store.messages.list(ws, { limit: 2 }))).toEqual([m4.id, hi]);
      expect(ids(await store.messages.list(ws, { limit: 10, before: { queuedAt: t + 10, id: hi! } }))).toEqual([lo, m1.id]);
      expect(ids(await store.messages.list(ws, { limit: 10, status: "queued" }))).toEqual([m3.id, m1.id]);
      expect(ids(await store.messages.list(ws, { limit: 10, tag: "reminder" }))).toEqual([m1.id]);
      expect(ids(await store.messages.list(ws, { limit: 10, tag: "remind" }))).toEqual([]);
      expect(ids(await store.messages.list(ws, { limit: 10, since: t + 10, until: t + 20 }))).toEqual([hi, lo]);
      expect(ids(await store.messages.list(other, { limit: 10 }))).toEqual([o.id]);
      const [row] = await store.messages.list(ws, { limit: 1, status: "failed" });
      expect(row).toMatchObject({ id: m4.id, workspaceId: ws, status: "failed", queuedAt: t + 20, toEmails: m4.emails, tags: [] });
    });
  });

  describe("messages.cancel", () => {
    it("cancels queued and deferred recipients only, and gives the message's derived status", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { status: "sending", recipients: [{ status: "queued" }, { status: "deferred", attempts: 1 }, { status: "sending", attempts: 1, leaseUntil: at + 60_000 }, { status: "sent", attempts: 1 }] });
      expect(await store.messages.cancel(ws, m.id, at)).toBe("sending");
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.lastError])).toEqual([
        ["cancelled", "cancelled by the sender"],
        ["cancelled", "cancelled by the sender"],
        ["sending", null],
        ["sent", null],
      ]);
      expect((await seed.recipients(m.id))[0]!.updatedAt).toBe(at);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "sending", updatedAt: at });
    });

    it("a fully cancelled message is `cancelled`; nothing left to cancel is null, and changes nothing", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { recipients: 2 });
      expect(await store.messages.cancel(ws, m.id, at)).toBe("cancelled");
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "cancelled", updatedAt: at });
      expect(await store.messages.cancel(ws, m.id, at + 1)).toBeNull();
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "cancelled", updatedAt: at });
      const done = await seed.message(ws, { status: "sent", recipients: [{ status: "sent", attempts: 1 }], queuedAt: at - 10 });
      expect(await store.messages.cancel(ws, done.id, at)).toBeNull();
      expect(await seed.messageRow(done.id)).toMatchObject({ status: "sent", updatedAt: at - 10 });
      expect(await store.messages.cancel(ws, "msg_missing", at)).toBeNull();
    });

    it("another workspace's message: null, and untouched", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { recipients: 1, queuedAt: 1000 });
      expect(await store.messages.cancel(other, m.id, Date.now())).toBeNull();
      expect((await seed.recipients(m.id))[0]!.status).toBe("queued");
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "queued", updatedAt: 1000 });
    });
  });
}
