// Conformance: the campaigns group (db/store/campaigns.ts). Campaigns are the workspace's own;
// totals add every day row of the campaign in the workspace, the days come oldest first within
// an inclusive range.
import { describe, expect, it } from "vitest";
import { zeroCounts } from "../../core/campaigns";
import { newId } from "../../core/ids";
import { open, type BackendFactory } from "./conformance-support";
import { recipientSeeds } from "./seed-recipients";

const day = (campaignId: string, workspaceId: string, d: string, c: Partial<ReturnType<typeof zeroCounts>>) => ({ campaignId, workspaceId, day: d, ...zeroCounts(), ...c });

export function campaignsConformance(backend: BackendFactory): void {
  describe("campaigns", () => {
    it("createCampaign: the row as stored; campaign() reads it; another workspace's id is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = newId("cmp");
      const row = await store.campaigns.createCampaign(ws, { id, name: "Flu shots", status: "draft", at: 1234 });
      const expected = { id, workspaceId: ws, name: "Flu shots", status: "draft", createdAt: 1234, updatedAt: 1234 };
      expect(row).toEqual(expected);
      expect(await store.campaigns.campaign(ws, id)).toEqual(expected);
      expect(await s.campaignRow(id)).toEqual({ workspaceId: ws, name: "Flu shots", status: "draft", updatedAt: 1234 });
      expect(await store.campaigns.campaign(other, id)).toBeUndefined();
    });

    it("listCampaigns: newest first, keyset pages, by status, in the workspace only", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const c1 = await s.campaign(ws, { createdAt: 10 });
      const c2 = await s.campaign(ws, { createdAt: 20, status: "completed" });
      const c3 = await s.campaign(ws, { createdAt: 20 });
      await s.campaign(other, { createdAt: 30 });
      const [hi, lo] = c2 > c3 ? [c2, c3] : [c3, c2];
      const ids = async (f: Parameters<typeof store.campaigns.listCampaigns>[1]) => (await store.campaigns.listCampaigns(ws, f)).map((c) => c.id);
      expect(await ids({ limit: 10 })).toEqual([hi, lo, c1]);
      expect(await ids({ limit: 1 })).toEqual([hi]);
      expect(await ids({ limit: 10, before: { createdAt: 20, id: hi } })).toEqual([lo, c1]);
      expect(await ids({ limit: 10, status: "completed" })).toEqual([c2]);
      expect((await store.campaigns.listCampaigns(ws, { limit: 10, status: "active" }))[0]).toMatchObject({ id: c3, workspaceId: ws, status: "active", createdAt: 20 });
    });

    it("updateCampaign renames and/or sets the status, stamping updated_at; another workspace's id is not found and unchanged", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await s.campaign(ws, { name: "before", createdAt: 5 });
      expect(await store.campaigns.updateCampaign(other, id, { name: "stolen", status: "cancelled" }, 50)).toBeUndefined();
      expect(await s.campaignRow(id)).toEqual({ workspaceId: ws, name: "before", status: "active", updatedAt: 5 });
      expect(await store.campaigns.updateCampaign(ws, id, { name: "after" }, 60)).toEqual({ id, workspaceId: ws, name: "after", status: "active", createdAt: 5, updatedAt: 60 });
      expect(await store.campaigns.updateCampaign(ws, id, { status: "completed" }, 70)).toMatchObject({ name: "after", status: "completed", updatedAt: 70 });
      // Nothing but the time changes: still found.
      expect(await store.campaigns.updateCampaign(ws, id, { status: "completed" }, 70)).toMatchObject({ status: "completed", updatedAt: 70 });
      expect(await store.campaigns.updateCampaign(ws, newId("cmp"), { name: "x" }, 80)).toBeUndefined();
    });

    it("campaignWithStats: all-time totals and the days in range, oldest first; zeros when nothing was counted; another workspace's id is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await s.campaign(ws, { name: "stats", createdAt: 3 });
      await s.campaignDay(ws, id, "2026-01-03", { queued: 5, sent: 4, delivered: 3 });
      await s.campaignDay(ws, id, "2026-01-01", { queued: 2, failed: 1 });
      await s.campaignDay(ws, id, "2026-01-02", { bounced: 1, complained: 1, suppressed: 2 });

      const all = await store.campaigns.campaignWithStats(ws, id);
      expect(all?.campaign).toEqual({ id, workspaceId: ws, name: "stats", status: "active", createdAt: 3, updatedAt: 3 });
      expect(all?.totals).toEqual({ queued: 7, sent: 4, delivered: 3, bounced: 1, complained: 1, failed: 1, suppressed: 2 });
      expect(all?.days).toEqual([
        day(id, ws, "2026-01-01", { queued: 2, failed: 1 }),
        day(id, ws, "2026-01-02", { bounced: 1, complained: 1, suppressed: 2 }),
        day(id, ws, "2026-01-03", { queued: 5, sent: 4, delivered: 3 }),
      ]);
      const ranged = await store.campaigns.campaignWithStats(ws, id, { since: "2026-01-02", until: "2026-01-02" });
      expect(ranged?.days.map((d) => d.day)).toEqual(["2026-01-02"]);
      // Totals are all-time whatever the range.
      expect(ranged?.totals.queued).toBe(7);
      expect((await store.campaigns.campaignWithStats(ws, id, { since: "2026-01-02" }))?.days.map((d) => d.day)).toEqual(["2026-01-02", "2026-01-03"]);
      expect((await store.campaigns.campaignWithStats(ws, id, { until: "2026-01-01" }))?.days.map((d) => d.day)).toEqual(["2026-01-01"]);

      const quiet = await s.campaign(ws);
      expect(await store.campaigns.campaignWithStats(ws, quiet)).toMatchObject({ totals: zeroCounts(), days: [] });
      expect(await store.campaigns.campaignWithStats(other, id)).toBeUndefined();
    });

    it("campaignTotals: per campaign, the workspace's rows only; uncounted campaigns are absent", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await s.campaign(ws);
      const b = await s.campaign(ws);
      const quiet = await s.campaign(ws);
      await s.campaignDay(ws, a, "2026-02-01", { queued: 3, sent: 3 });
      await s.campaignDay(ws, a, "2026-02-02", { queued: 1, delivered: 2 });
      await s.campaignDay(ws, b, "2026-02-01", { failed: 4 });
      // A row claiming another workspace for the campaign is not the campaign's here.
      await s.campaignDay(other, b, "2026-02-02", { failed: 100 });

      const totals = await store.campaigns.campaignTotals(ws, [a, b, quiet]);
      expect(totals).toEqual(
        new Map([
          [a, { ...zeroCounts(), queued: 4, sent: 3, delivered: 2 }],
          [b, { ...zeroCounts(), failed: 4 }],
        ]),
      );
      expect(await store.campaigns.campaignTotals(ws, [])).toEqual(new Map());
      expect(await store.campaigns.campaignTotals(other, [a])).toEqual(new Map());
      expect((await store.campaigns.campaignWithStats(ws, b))?.totals.failed).toBe(4);
    });
  });
}
