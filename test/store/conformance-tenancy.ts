// Conformance: tenant scoping. Every workspace-scoped operation, given another workspace's id with
// this workspace's message, finds nothing and changes nothing.
import { describe, expect, it } from "vitest";
import { open, type BackendFactory } from "./conformance-support";

export function tenancyConformance(backend: BackendFactory): void {
  describe("tenant scoping: another workspace's id finds and changes nothing", () => {
    it("claim, renew, release, record, markDueAt, failPending, releaseDeferredOn, loadWorkspace", async () => {
      const { store, seed } = await open(backend);
      const mine = await seed.workspace({ configuration: { owner: "mine" } });
      const other = await seed.workspace();
      const provider = await seed.provider(mine, { type: "smtp", config: { timeout_ms: 9_000 } });
      const campaignId = await seed.campaign(mine);
      const m = await seed.message(mine, { recipients: 3, campaignId });
      const at = Date.now();

      expect(await store.delivery.loadAndClaim(other, m.id, at, 30_000, at)).toBeUndefined();
      expect((await seed.recipients(m.id)).map((r) => [r.status, r.attempts])).toEqual(m.recipientIds.map(() => ["queued", 0]));
      expect((await seed.messageRow(m.id))?.status).toBe("queued");

      const claim = await store.delivery.loadAndClaim(mine, m.id, at, 30_000, at);
      expect(claim?.claimed).toHaveLength(3);
      const claimed = await seed.recipients(m.id);
      const messageClaimed = await seed.messageRow(m.id);
      const unchanged = async () => {
        expect(await seed.recipients(m.id)).toEqual(claimed);
        expect(await seed.messageRow(m.id)).toEqual(messageClaimed);
      };

      expect(await store.delivery.renewClaim(other, m.id, at, at + 90_000)).toEqual(new Set());
      await unchanged();
      await store.delivery.releaseClaim(other, m.id, m.recipientIds.map((id) => ({ id, status: "queued" as const })), "queued", at);
      await unchanged();
      await store.delivery.recordDelivery({
        workspaceId: other,
        messageId: m.id,
        at: at + 1,
        outcomes: m.recipientIds.map((id) => ({ id, status: "sent" as const, providerId: provider, providerMessageId: "pm-x", lastError: null })),
        otherStatuses: [],
        notBefore: at + 5_000,
        enqueuedAt: at + 5_000,
        waitingOn: provider,
        lastError: "x",
        countAttempt: true,
        campaignId,
      });
      await unchanged();
      expect(await seed.campaignDays(campaignId)).toEqual([]);
      await store.delivery.markDueAt(other, m.id, at + 7_000);
      await unchanged();
      expect(await store.delivery.failPending(other, m.id, "dead-lettered", at + 2)).toBe(0);
      await unchanged();
      expect(await seed.campaignDays(campaignId)).toEqual([]);

      const waiting = await seed.message(mine, { recipients: 1, status: "deferred", waitingOn: provider, notBefore: at + 60_000 });
      expect(await store.outbox.releaseDeferredOn(other, provider, at, 10)).toEqual([]);
      expect(await seed.messageRow(waiting.id)).toMatchObject({ notBefore: at + 60_000, waitingOn: provider, enqueuedAt: null });

      expect(await store.delivery.loadWorkspace(other)).toEqual({ workspaceConfig: {}, providers: [], quotas: [] });
      expect((await store.delivery.loadWorkspace(mine)).providers.map((p) => p.id)).toEqual([provider]);
    });
  });
}
