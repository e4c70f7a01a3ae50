// Conformance: the inbound group (db/store/inbound.ts). Deliveries are found by VERP id, by
// Message-ID header (only an unambiguous match), by the provider's message id or the message
// (within the workspace, address case-insensitive); an outcome updates the recipient, the address's
// record (bounce count, suppression), the campaign counters (once per transition) and writes the
// event, all or nothing and only in the ref's workspace.
import { describe, expect, it } from "vitest";
import type { DeliveryRef, OutcomeInput } from "../../db/store/inbound";
import { open, sorted, type BackendFactory } from "./conformance-support";
import { webhookSeeder } from "./seed-webhooks";

const today = () => new Date().toISOString().slice(0, 10);

export function inboundConformance(backend: BackendFactory): void {
  describe("inbound: delivery look-ups", () => {
    it("findDeliveryById and findDeliveriesOfMessage: by VERP id alone", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const cmp = await seed.campaign(ws);
      const m = await seed.message(ws, { recipients: [{ email: "a@example.net", status: "sent" }, { email: "b@example.net" }], campaignId: cmp });
      const ref = await store.inbound.findDeliveryById(m.recipientIds[0]!);
      expect(ref).toEqual({
        workspaceId: ws,
        messageId: m.id,
        messageRecipientId: m.recipientIds[0]!,
        email: "a@example.net",
        status: "sent",
        providerId: null,
        messageIdHeader: `<${m.id}@conformance.example>`,
        campaignId: cmp,
      } satisfies DeliveryRef);
      expect(await store.inbound.findDeliveryById("mr_missing")).toBeUndefined();
      expect(sorted((await store.inbound.findDeliveriesOfMessage(m.id)).map((r) => r.messageRecipientId))).toEqual(sorted(m.recipientIds));
      expect(await store.inbound.findDeliveriesOfMessage("msg_missing")).toEqual([]);
    });

    it("findDeliveryByMessageIdHeader: the address case-insensitively; without one only a single recipient; never an ambiguous match", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { recipients: [{ email: "a@example.net" }, { email: "b@example.net" }] });
      const header = `<${m.id}@conformance.example>`;
      expect((await store.inbound.findDeliveryByMessageIdHeader(header, "B@Example.NET"))?.messageRecipientId).toBe(m.recipientIds[1]);
      expect(await store.inbound.findDeliveryByMessageIdHeader(header, null)).toBeUndefined();
      expect(await store.inbound.findDeliveryByMessageIdHeader(header, "c@example.net")).toBeUndefined();
      const single = await seed.message(ws, { recipients: 1 });
      expect((await store.inbound.findDeliveryByMessageIdHeader(`<${single.id}@conformance.example>`, null))?.messageRecipientId).toBe(single.recipientIds[0]);

      // Another workspace reusing the Message-ID for the same address: neither is chosen.
      const twin = await seed.message(other, { recipients: [{ email: "a@example.net" }, { email: "d@example.net" }] });
      await exec.run(`UPDATE messages SET message_id_header = ? WHERE id = ?`, [header, twin.id]);
      expect(await store.inbound.findDeliveryByMessageIdHeader(header, "a@example.net")).toBeUndefined();
      expect((await store.inbound.findDeliveryByMessageIdHeader(header, "d@example.net"))?.workspaceId).toBe(other);
    });

    it("findDeliveryByProviderMessageId and findDeliveryByMessage: within the workspace, the address case-insensitively", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { recipients: [{ email: "a@example.net", status: "sent" }, { email: "b@example.net", status: "sent" }] });
      await exec.run(`UPDATE message_recipients SET provider_message_id = ? WHERE message_id = ?`, ["pm-123@mg.example", m.id]);
      expect((await store.inbound.findDeliveryByProviderMessageId(ws, "pm-123@mg.example", "A@EXAMPLE.net"))?.messageRecipientId).toBe(m.recipientIds[0]);
      expect(await store.inbound.findDeliveryByProviderMessageId(ws, "pm-123@mg.example", "z@example.net")).toBeUndefined();
      expect(await store.inbound.findDeliveryByProviderMessageId(other, "pm-123@mg.example", "a@example.net")).toBeUndefined();
      expect((await store.inbound.findDeliveryByMessage(ws, m.id, "b@EXAMPLE.NET"))?.messageRecipientId).toBe(m.recipientIds[1]);
      expect(await store.inbound.findDeliveryByMessage(other, m.id, "b@example.net")).toBeUndefined();
    });

    it("providerTypeOf: the workspace's provider only", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const prv = await seed.provider(ws, { type: "mailgun" });
      expect(await store.inbound.providerTypeOf(ws, prv)).toBe("mailgun");
      expect(await store.inbound.providerTypeOf(other, prv)).toBeNull();
      expect(await store.inbound.providerTypeOf(ws, null)).toBeNull();
    });
  });

  describe("inbound: applyOutcome", () => {
    const bounce = { reason: "mailbox_unknown", cause: "recipient", status: "5.1.1", diagnostic: "550 5.1.1 no such user", remote_mta: "mx.example.net" };

    it("a hard bounce: the recipient bounced, its record counted and suppressed at the threshold, the event, the campaign counted once, the message's status", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const cmp = await seed.campaign(ws);
      const m = await seed.message(ws, { status: "sent", campaignId: cmp, recipients: [{ email: "Gone@Example.net", status: "sent" }, { email: "ok@example.net", status: "sent" }] });
      const ref = (await store.inbound.findDeliveryById(m.recipientIds[0]!))!;
      const at = Date.now();
      const input: OutcomeInput = {
        ref,
        status: "bounced",
        lastError: "mailbox_unknown: 550 5.1.1 no such user",
        eventType: "bounce_hard",
        detail: { source: "bounce", status: "5.1.1" },
        hardBounce: { suppressAfter: 2 },
        bounce: bounce as OutcomeInput["bounce"],
        at,
      };
      expect(await store.inbound.applyOutcome(input)).toEqual({ messageStatus: "partially_failed", suppressed: null, bounceCount: 1 });
      const [bounced, ok] = await seed.recipients(m.id);
      expect(bounced).toMatchObject({ status: "bounced", lastError: "mailbox_unknown: 550 5.1.1 no such user", updatedAt: at });
      expect(ok).toMatchObject({ status: "sent" });
      const record = (await w.recipientRecord(ws, "gone@example.net"))!;
      expect(record).toMatchObject({ status: "active", bounceCount: 1 });
      expect(await w.recipientOutcome(m.recipientIds[0]!)).toEqual({ recipientId: record.id, bounce });
      expect(await store.inbound.getRecipientRecord(ws, "GONE@example.net")).toMatchObject({ id: record.id, email: "gone@example.net", status: "active", bounceCount: 1 });
      expect(await seed.events(m.id)).toEqual([{ workspaceId: ws, recipientId: record.id, messageRecipientId: m.recipientIds[0], type: "bounce_hard", detail: { source: "bounce", status: "5.1.1" }, createdAt: at }]);
      expect(await store.inbound.listRecipientEvents(ws, m.recipientIds[0]!)).toMatchObject([{ recipientId: record.id, messageId: m.id, type: "bounce_hard", detail: { source: "bounce", status: "5.1.1" }, createdAt: at }]);
      expect((await seed.messageRow(m.id))?.status).toBe("partially_failed");
      expect(await seed.campaignDays(cmp)).toEqual([{ day: today(), queued: 0, sent: 0, delivered: 0, bounced: 1, complained: 0, failed: 0, suppressed: 0 }]);

      // Reported again (the ref as read before): the count reaches the threshold, the transition is not counted twice.
      expect(await store.inbound.applyOutcome({ ...input, at: at + 1 })).toEqual({ messageStatus: "partially_failed", suppressed: "bounced", bounceCount: 2 });
      expect(await w.recipientRecord(ws, "gone@example.net")).toMatchObject({ status: "bounced", bounceCount: 2 });
      expect((await seed.campaignDays(cmp))[0]).toMatchObject({ bounced: 1 });
      expect((await seed.events(m.id)).map((e) => e.type)).toEqual(["bounce_hard", "bounce_hard"]);
    });

    it("a complaint suppresses at once; a soft bounce moves nothing but writes its event; a final sender-side status is not moved", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { status: "sent", recipients: [{ email: "c@example.net", status: "delivered" }, { email: "s@example.net", status: "cancelled" }] });
      const at = Date.now();
      const complaint = (await store.inbound.findDeliveryById(m.recipientIds[0]!))!;
      expect(await store.inbound.applyOutcome({ ref: complaint, status: "complained", suppress: "complained", eventType: "complaint", detail: { source: "arf" }, at })).toEqual({
        messageStatus: "failed",
        suppressed: "complained",
        bounceCount: 0,
      });
      expect(await w.recipientRecord(ws, "c@example.net")).toMatchObject({ status: "complained" });
      expect((await seed.recipients(m.id))[0]).toMatchObject({ status: "complained" });

      const soft = { ...complaint, status: "complained" as const };
      expect(await store.inbound.applyOutcome({ ref: soft, eventType: "bounce_soft", detail: { source: "bounce" }, at: at + 1 })).toEqual({ messageStatus: null, suppressed: null, bounceCount: 0 });
      expect((await seed.recipients(m.id))[0]).toMatchObject({ status: "complained", updatedAt: at });
      // Unsubscribing an address already complained about changes nothing on its record.
      expect(await store.inbound.applyOutcome({ ref: soft, suppress: "unsubscribed", eventType: "unsubscribed", detail: {}, at: at + 2 })).toMatchObject({ suppressed: null });
      expect(await w.recipientRecord(ws, "c@example.net")).toMatchObject({ status: "complained" });

      const cancelled = (await store.inbound.findDeliveryById(m.recipientIds[1]!))!;
      expect(await store.inbound.applyOutcome({ ref: cancelled, status: "delivered", eventType: "delivered", detail: {}, at })).toMatchObject({ messageStatus: null });
      expect((await seed.recipients(m.id))[1]).toMatchObject({ status: "cancelled" });
      expect((await seed.events(m.id)).map((e) => e.type)).toEqual(["bounce_soft", "complaint", "delivered", "unsubscribed"]);
    });

    it("all or nothing: when a statement fails, the recipient, its record's count and the events are as before", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { status: "sent", recipients: [{ email: "x@example.net", status: "sent" }] });
      const ref = (await store.inbound.findDeliveryById(m.recipientIds[0]!))!;
      // A campaign that does not exist: the counters' row refers to it, and the write is refused.
      await expect(
        store.inbound.applyOutcome({ ref: { ...ref, campaignId: "cmp_missing" }, status: "bounced", eventType: "bounce_hard", detail: {}, hardBounce: { suppressAfter: 1 }, at: Date.now() }),
      ).rejects.toThrow();
      expect((await seed.recipients(m.id))[0]).toMatchObject({ status: "sent" });
      expect((await w.recipientRecord(ws, "x@example.net"))?.bounceCount ?? 0).toBe(0);
      expect(await seed.events(m.id)).toEqual([]);
      expect((await seed.messageRow(m.id))?.status).toBe("sent");
    });

    it("scoped to the ref's workspace: another workspace's ref naming this recipient changes nothing of it", async () => {
      const { store, seed, exec } = await open(backend);
      const w = webhookSeeder(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = await seed.message(ws, { status: "sent", recipients: [{ email: "y@example.net", status: "sent" }] });
      const ref = (await store.inbound.findDeliveryById(m.recipientIds[0]!))!;
      await store.inbound.applyOutcome({ ref: { ...ref, workspaceId: other }, status: "bounced", lastError: "x", eventType: "bounce_hard", detail: {}, at: Date.now() });
      expect((await seed.recipients(m.id))[0]).toMatchObject({ status: "sent", lastError: null });
      expect((await seed.messageRow(m.id))?.status).toBe("sent");
      expect(await w.recipientRecord(ws, "y@example.net")).toBeUndefined();
      expect(await store.inbound.listRecipientEvents(ws, m.recipientIds[0]!)).toEqual([]);
      expect(await store.inbound.getRecipientRecord(ws, "y@example.net")).toBeUndefined();
      expect(await store.inbound.getRecipientRecord(other, "y@example.net")).toBeDefined();
    });
  });
}
