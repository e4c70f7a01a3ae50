// Conformance: what a delivery job reads and writes besides the claim: the workspace's delivery
// facts, attempt rows, the recorded outcome (all or nothing, even when a statement fails midway),
// markDueAt, and the dead-letter path's failPending.
import { describe, expect, it } from "vitest";
import { utcDay } from "../../core/campaigns";
import type { DeliveryRecord } from "../../db/store/store";
import { attempt, open, sorted, type BackendFactory } from "./conformance-support";

const ZERO = { queued: 0, sent: 0, delivered: 0, bounced: 0, complained: 0, failed: 0, suppressed: 0 };

export function recordConformance(backend: BackendFactory): void {
  describe("delivery.loadWorkspace", () => {
    it("settings parsed, enabled providers by priority then age, provider quotas only", async () => {
      const { store, seed } = await open(backend);
      const configuration = { routing: { strategy: "priority" }, retry: { max_attempts: 4 } };
      const ws = await seed.workspace({ configuration });
      const smtp = await seed.provider(ws, { type: "smtp", priority: 20, createdAt: 2_000, config: { timeout_ms: 5_000, host: "smtp.example" } });
      const mailgun = await seed.provider(ws, { type: "mailgun", priority: 10, createdAt: 3_000 });
      const sandbox = await seed.provider(ws, { type: "sandbox", priority: 20, createdAt: 1_000 });
      await seed.provider(ws, { type: "gmail", priority: 1, status: "disabled" });
      await seed.provider(await seed.workspace(), { type: "smtp", priority: 0 });
      await seed.rateLimit(ws, { scope: "provider", providerId: smtp, period: "minute", maxCount: 100, burst: 10 });
      await seed.rateLimit(ws, { scope: "provider", providerId: mailgun, period: "hour", maxCount: 50 });
      await seed.rateLimit(ws, { scope: "workspace", period: "day", maxCount: 1000 });
      const facts = await store.delivery.loadWorkspace(ws);
      expect(facts.workspaceConfig).toEqual(configuration);
      expect(facts.providers.map((p) => p.id)).toEqual([mailgun, sandbox, smtp]);
      expect(facts.providers[2]).toMatchObject({ id: smtp, workspaceId: ws, type: "smtp", status: "enabled", priority: 20, weight: 1, baaCovered: false, createdAt: 2_000 });
      expect(facts.providers[2]!.config).toEqual({ timeout_ms: 5_000, host: "smtp.example" });
      expect(facts.providers[0]!.config).toEqual({});
      expect([...facts.quotas].sort((x, y) => (x.providerId! < y.providerId! ? -1 : 1))).toEqual(
        [
          { providerId: smtp, period: "minute", maxCount: 100, burst: 10 },
          { providerId: mailgun, period: "hour", maxCount: 50, burst: null },
        ].sort((x, y) => (x.providerId < y.providerId ? -1 : 1)),
      );
    });

    it("an unknown workspace has no settings, providers or quotas", async () => {
      const { store } = await open(backend);
      expect(await store.delivery.loadWorkspace("ws_does_not_exist")).toEqual({ workspaceConfig: {}, providers: [], quotas: [] });
    });
  });

  describe("delivery.insertAttempt", () => {
    it("writes the attempt row as given", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { recipients: 2 });
      const at = Date.now();
      const row = attempt(ws, m.id, at, { outcome: "transient", detail: "421 try later", providerMessageId: null, recipients: m.emails, latencyMs: 250 });
      await store.delivery.insertAttempt(row);
      expect(await seed.attempts(m.id)).toEqual([row]);
    });
  });

  describe("delivery.recordDelivery", () => {
    it("writes recipients, attempts, events, campaign counters and the message together", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const campaignId = await seed.campaign(ws);
      const m = await seed.message(ws, { recipients: 4, campaignId });
      const [r0, r1, r2, r3] = m.recipientIds as [string, string, string, string];
      const record = await seed.recipientRecord(ws, m.emails[0]!);
      const at0 = Date.now();
      await store.delivery.loadAndClaim(ws, m.id, at0, 30_000, at0);
      const at = at0 + 1_000;
      const row = attempt(ws, m.id, at, { providerId: "prv_a", recipients: m.emails, providerMessageId: "pm-1" });
      const status = await store.delivery.recordDelivery({
        workspaceId: ws,
        messageId: m.id,
        at,
        outcomes: [
          { id: r0, status: "sent", providerId: "prv_a", providerMessageId: "pm-1", lastError: null },
          { id: r1, status: "sent", providerId: "prv_a", providerMessageId: "pm-1", lastError: null },
          { id: r2, status: "failed", providerId: "prv_a", lastError: "550 no such mailbox" },
          { id: r3, status: "deferred", providerId: "prv_a", lastError: "451 greylisted" },
        ],
        attempts: [row],
        otherStatuses: [],
        notBefore: at + 60_000,
        enqueuedAt: at + 60_000,
        waitingOn: "prv_a",
        lastError: "451 greylisted",
        countAttempt: true,
        campaignId,
        events: [
          { messageRecipientId: r0, email: m.emails[0]!, type: "delivery.sent", detail: { provider: "prv_a" } },
          { messageRecipientId: r2, email: m.emails[2]!, type: "delivery.failed", detail: { reason: "550 no such mailbox" } },
        ],
      });
      expect(status).toBe("deferred");
      const sent = { status: "sent", attempts: 1, updatedAt: at, leaseUntil: null, providerId: "prv_a", providerMessageId: "pm-1", lastError: null, sentAt: at };
      expect(await seed.recipients(m.id)).toMatchObject([
        { id: r0, ...sent },
        { id: r1, ...sent },
        { id: r2, status: "failed", attempts: 1, updatedAt: at, leaseUntil: null, providerId: "prv_a", providerMessageId: null, lastError: "550 no such mailbox", sentAt: null },
        { id: r3, status: "deferred", attempts: 1, updatedAt: at, leaseUntil: null, providerId: "prv_a", providerMessageId: null, lastError: "451 greylisted", sentAt: null },
      ]);
      expect(await seed.messageRow(m.id)).toEqual({
        status: "deferred",
        updatedAt: at,
        enqueuedAt: at + 60_000,
        notBefore: at + 60_000,
        waitingOn: "prv_a",
        attemptCount: 1,
        lastError: "451 greylisted",
        processedAt: null,
      });
      expect(await seed.attempts(m.id)).toEqual([row]);
      expect(await seed.events(m.id)).toEqual([
        { workspaceId: ws, recipientId: null, messageRecipientId: r2, type: "delivery.failed", detail: { reason: "550 no such mailbox" }, createdAt: at },
        { workspaceId: ws, recipientId: record, messageRecipientId: r0, type: "delivery.sent", detail: { provider: "prv_a" }, createdAt: at },
      ]);
      expect(await seed.campaignDays(campaignId)).toEqual([{ ...ZERO, day: utcDay(at), sent: 2, failed: 1 }]);
    });

    it("derives the message status with the untouched recipients; finishing sets processed_at; a replayed record counts nothing twice", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const campaignId = await seed.campaign(ws);
      const m = await seed.message(ws, { recipients: 2, campaignId });
      const [r0, r1] = m.recipientIds as [string, string];
      const at = Date.now();
      await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const first: DeliveryRecord = { workspaceId: ws, messageId: m.id, at: at + 1, outcomes: [{ id: r0, status: "sent", providerId: "prv_a", providerMessageId: "pm-0" }], otherStatuses: ["sending"], countAttempt: true, campaignId };
      expect(await store.delivery.recordDelivery(first)).toBe("sending");
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "sending", processedAt: null, attemptCount: 1 });
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.sentAt, r.providerId])).toEqual([
        ["sent", at + 1, "prv_a"],
        ["sending", null, null],
      ]);
      const second: DeliveryRecord = { workspaceId: ws, messageId: m.id, at: at + 2, outcomes: [{ id: r1, status: "failed", lastError: "refused" }], otherStatuses: ["sent"], countAttempt: false, campaignId };
      expect(await store.delivery.recordDelivery(second)).toBe("partially_failed");
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "partially_failed", processedAt: at + 2, updatedAt: at + 2, attemptCount: 1 });
      expect(await store.delivery.recordDelivery({ ...first, at: at + 3 })).toBe("sending");
      expect(await seed.campaignDays(campaignId)).toEqual([{ ...ZERO, day: utcDay(at + 1), sent: 1, failed: 1 }]);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.providerMessageId])).toEqual([
        ["sent", "pm-0"],
        ["failed", null],
      ]);
    });

    it("uncountAttempt takes the claim's attempt back; what the record leaves undefined stays as it was", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { recipients: 2, waitingOn: "prv_old", enqueuedAt: 5, notBefore: at - 1 });
      const [r0, r1] = m.recipientIds as [string, string];
      await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const status = await store.delivery.recordDelivery({
        workspaceId: ws,
        messageId: m.id,
        at: at + 1,
        outcomes: [
          { id: r0, status: "deferred", lastError: "over the daily limit", uncountAttempt: true },
          { id: r1, status: "queued" },
        ],
        otherStatuses: [],
        countAttempt: false,
      });
      expect(status).toBe("deferred");
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts, r.lastError, r.providerId, r.leaseUntil])).toEqual([
        ["deferred", 0, "over the daily limit", null, null],
        ["queued", 1, null, null, null],
      ]);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "deferred", waitingOn: "prv_old", enqueuedAt: 5, notBefore: at - 1, attemptCount: 0, lastError: null });
      expect(await seed.attempts(m.id)).toEqual([]);
    });

    it("any number of recipients, attempts and events (past D1's 100 bound parameters), and a record with no outcome", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const campaignId = await seed.campaign(ws);
      const m = await seed.message(ws, { recipients: 120, campaignId });
      const at = Date.now();
      await store.delivery.loadAndClaim(ws, m.id, at, 30_000, at);
      const attempts = Array.from({ length: 9 }, (_, i) => attempt(ws, m.id, at + 1 + i, { deliveryId: `dlv_${i}` }));
      const status = await store.delivery.recordDelivery({
        workspaceId: ws,
        messageId: m.id,
        at: at + 20,
        outcomes: m.recipientIds.map((id, i) => (i < 110 ? { id, status: "sent" as const, providerId: "prv_a", providerMessageId: "pm-big", lastError: null } : { id, status: "failed" as const, lastError: `refused ${i}` })),
        attempts,
        otherStatuses: [],
        countAttempt: true,
        campaignId,
        events: m.recipientIds.slice(0, 25).map((id, i) => ({ messageRecipientId: id, email: m.emails[i]!, type: "delivery.sent", detail: { i } })),
      });
      expect(status).toBe("partially_failed");
      const rows = await seed.recipients(m.id);
      expect(rows.filter((r) => r.status === "sent" && r.providerMessageId === "pm-big" && r.sentAt === at + 20)).toHaveLength(110);
      expect(rows.slice(110).map((r) => [r.status, r.lastError])).toEqual(m.recipientIds.slice(110).map((_, i) => ["failed", `refused ${110 + i}`]));
      expect((await seed.attempts(m.id)).map((a) => a.id)).toEqual(attempts.map((a) => a.id));
      expect((await seed.events(m.id)).map((e) => e.detail.i).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(await seed.campaignDays(campaignId)).toEqual([{ ...ZERO, day: utcDay(at + 20), sent: 110, failed: 10 }]);
      // No outcome (the claim was lost to another consumer): only the message is written.
      const n = await seed.message(ws, { recipients: 1 });
      expect(await store.delivery.recordDelivery({ workspaceId: ws, messageId: n.id, at: at + 30, outcomes: [], otherStatuses: ["deferred"], countAttempt: true, waitingOn: "*" })).toBe("deferred");
      expect(await seed.messageRow(n.id)).toMatchObject({ status: "deferred", attemptCount: 1, waitingOn: "*", updatedAt: at + 30 });
      expect((await seed.recipients(n.id)).map((r) => [r.status, r.attempts])).toEqual([["queued", 0]]);
    });

    it("a statement failing midway (an attempt row whose id is taken) leaves nothing of the record written", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const campaignId = await seed.campaign(ws);
      const m = await seed.message(ws, { recipients: 3, campaignId });
      await seed.recipientRecord(ws, m.emails[0]!);
      const at0 = Date.now();
      await store.delivery.loadAndClaim(ws, m.id, at0, 30_000, at0);
      const earlier = attempt(ws, m.id, at0 + 10, { outcome: "transient", detail: "timeout", providerMessageId: null });
      await store.delivery.insertAttempt(earlier);
      const recipientsBefore = await seed.recipients(m.id);
      const messageBefore = await seed.messageRow(m.id);
      const at = at0 + 1_000;
      await expect(
        store.delivery.recordDelivery({
          workspaceId: ws,
          messageId: m.id,
          at,
          outcomes: m.recipientIds.map((id) => ({ id, status: "sent" as const, providerId: "prv_a", providerMessageId: "pm-9", lastError: null })),
          attempts: [attempt(ws, m.id, at), { ...attempt(ws, m.id, at), id: earlier.id }],
          otherStatuses: [],
          notBefore: null,
          enqueuedAt: null,
          waitingOn: null,
          lastError: null,
          countAttempt: true,
          campaignId,
          events: m.recipientIds.map((id, i) => ({ messageRecipientId: id, email: m.emails[i]!, type: "delivery.sent", detail: {} })),
        }),
      ).rejects.toThrow();
      expect(recipientsBefore.map((r) => [r.status, r.attempts, r.leaseUntil])).toEqual(m.recipientIds.map(() => ["sending", 1, at0 + 30_000]));
      expect(await seed.recipients(m.id)).toEqual(recipientsBefore);
      expect(await seed.messageRow(m.id)).toEqual(messageBefore);
      expect(messageBefore).toMatchObject({ status: "sending", attemptCount: 0, processedAt: null });
      expect(await seed.attempts(m.id)).toEqual([earlier]);
      expect(await seed.events(m.id)).toEqual([]);
      expect(await seed.campaignDays(campaignId)).toEqual([]);
    });
  });

  describe("delivery.markDueAt", () => {
    it("stamps when the message's next job is due, and nothing else", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { recipients: 1, status: "deferred", notBefore: at + 5_000, waitingOn: "prv_a", queuedAt: at - 10 });
      const other = await seed.message(ws, { recipients: 1 });
      await store.delivery.markDueAt(ws, m.id, at + 5_000);
      expect(await seed.messageRow(m.id)).toMatchObject({ enqueuedAt: at + 5_000, status: "deferred", notBefore: at + 5_000, waitingOn: "prv_a", updatedAt: at - 10 });
      expect((await seed.messageRow(other.id))?.enqueuedAt).toBeNull();
    });
  });

  describe("delivery.failPending", () => {
    it("fails every pending recipient, counts them in the campaign, derives the message status; a second call changes nothing", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const campaignId = await seed.campaign(ws);
      const at = Date.now();
      const m = await seed.message(ws, {
        status: "sending",
        campaignId,
        queuedAt: at - 1000,
        recipients: [{ status: "queued" }, { status: "sending", attempts: 1, leaseUntil: at + 1 }, { status: "deferred", attempts: 2 }, { status: "sent", attempts: 1 }],
      });
      expect(await store.delivery.failPending(ws, m.id, "dead-lettered", at)).toBe(3);
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.lastError, r.updatedAt, r.attempts])).toEqual([
        ["failed", "dead-lettered", at, 0],
        ["failed", "dead-lettered", at, 1],
        ["failed", "dead-lettered", at, 2],
        ["sent", null, at - 1000, 1],
      ]);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "partially_failed", updatedAt: at });
      expect(await seed.campaignDays(campaignId)).toEqual([{ ...ZERO, day: utcDay(at), failed: 3 }]);
      expect(await store.delivery.failPending(ws, m.id, "again", at + 5)).toBe(0);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "partially_failed", updatedAt: at });
      expect(await seed.campaignDays(campaignId)).toEqual([{ ...ZERO, day: utcDay(at), failed: 3 }]);
      expect(sorted((await seed.recipients(m.id)).map((r) => r.lastError ?? ""))).toEqual(["", "dead-lettered", "dead-lettered", "dead-lettered"]);
    });

    it("a message with nothing delivered ends failed (no campaign: no counters)", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const at = Date.now();
      const m = await seed.message(ws, { recipients: 2 });
      expect(await store.delivery.failPending(ws, m.id, "poison job", at)).toBe(2);
      expect(await seed.messageRow(m.id)).toMatchObject({ status: "failed", updatedAt: at });
    });
  });
}
