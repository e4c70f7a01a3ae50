// The campaigns group (db/store/campaigns.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/campaigns.ts over db/campaigns.ts). Ordinary CRUD through drizzle's mysql-core
// builders; reads that D1 makes in one batch are one transaction here, so they see one snapshot.
import { and, desc, eq, gte, inArray, lt, lte, or, sql, type AnyColumn, type SQL } from "drizzle-orm";
import { zeroCounts, type CampaignCounts } from "../../../core/campaigns";
import type { CampaignRow, CampaignStatsRow, CampaignStore } from "../../store/campaigns";
import { campaigns, campaignStats } from "../schema";
import type { Orm, Runner } from "./sql";

export function mysqlCampaign(db: Runner): CampaignStore {
  return {
    createCampaign: (ws, c) =>
      db.run(async (q) => {
        const row: CampaignRow = { id: c.id, workspaceId: ws, name: c.name, status: c.status, createdAt: c.at, updatedAt: c.at };
        // Every column is given, so the row written is exactly this one (MySQL has no RETURNING).
        await q.orm.insert(campaigns).values(row);
        return row;
      }),
    campaign: (ws, id) => db.run((q) => campaignRow(q.orm, ws, id)),
    listCampaigns: (ws, f) =>
      db.lagging.run((q) => {
        const where: SQL[] = [eq(campaigns.workspaceId, ws)];
        if (f.status) where.push(eq(campaigns.status, f.status));
        if (f.before) where.push(or(lt(campaigns.createdAt, f.before.createdAt), and(eq(campaigns.createdAt, f.before.createdAt), lt(campaigns.id, f.before.id)))!);
        return q.orm.select().from(campaigns).where(and(...where)).orderBy(desc(campaigns.createdAt), desc(campaigns.id)).limit(f.limit);
      }),
    updateCampaign: (ws, id, set, at) =>
      db.tx(async (q) => {
        const [result] = await q.orm
          .update(campaigns)
          .set({ ...set, updatedAt: at })
          .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, id)));
        // Matched rows (the connection sets FOUND_ROWS): an unchanged name still counts as found.
        if (result.affectedRows === 0) return undefined;
        return campaignRow(q.orm, ws, id);
      }),
    campaignWithStats: (ws, id, range = {}) =>
      db.lagging.tx(async (q) => {
        const campaign = await campaignRow(q.orm, ws, id);
        if (!campaign) return undefined;
        const totals = (await totalsOf(q.orm, ws, [id])).get(id) ?? zeroCounts();
        const where: SQL[] = [eq(campaignStats.workspaceId, ws), eq(campaignStats.campaignId, id)];
        if (range.since) where.push(gte(campaignStats.day, range.since));
        if (range.until) where.push(lte(campaignStats.day, range.until));
        const days: CampaignStatsRow[] = await q.orm.select().from(campaignStats).where(and(...where)).orderBy(campaignStats.day);
        return { campaign, totals, days };
      }),
    campaignTotals: (ws, ids) => (ids.length === 0 ? Promise.resolve(new Map()) : db.lagging.run((q) => totalsOf(q.orm, ws, ids))),
  };
}

async function campaignRow(orm: Orm, workspaceId: string, id: string): Promise<CampaignRow | undefined> {
  const [row] = await orm
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.id, id)))
    .limit(1);
  return row;
}

// SUM of an INT column is DECIMAL on MySQL, which mysql2 hands back as a string: counted as numbers here.
const total = (column: AnyColumn) => sql<string>`sum(${column})`;

async function totalsOf(orm: Orm, workspaceId: string, ids: string[]): Promise<Map<string, CampaignCounts>> {
  const rows = await orm
    .select({
      campaignId: campaignStats.campaignId,
      queued: total(campaignStats.queued),
      sent: total(campaignStats.sent),
      delivered: total(campaignStats.delivered),
      bounced: total(campaignStats.bounced),
      complained: total(campaignStats.complained),
      failed: total(campaignStats.failed),
      suppressed: total(campaignStats.suppressed),
    })
    .from(campaignStats)
    .where(and(eq(campaignStats.workspaceId, workspaceId), inArray(campaignStats.campaignId, ids)))
    .groupBy(campaignStats.campaignId);
  return new Map(
    rows.map(({ campaignId, ...c }) => [
      campaignId,
      {
        queued: Number(c.queued),
        sent: Number(c.sent),
        delivered: Number(c.delivered),
        bounced: Number(c.bounced),
        complained: Number(c.complained),
        failed: Number(c.failed),
        suppressed: Number(c.suppressed),
      },
    ]),
  );
}
