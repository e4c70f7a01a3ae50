// The store's campaigns group (db/store/store.ts): campaigns and their statistics (the per-day
// counters the accept, delivery and bounce writes maintain in their own batches: db/campaigns.ts
// countTransitions, countPendingAsFailed). Operations are in core terms: no query builder,
// statement or driver type crosses them. Every operation takes the workspace first; another
// workspace's campaign is "not found".
import type { CampaignCounts, CampaignStatus } from "../../core/campaigns";
import type { CampaignRow, CampaignStatsRow } from "../campaigns";

export type { CampaignRow, CampaignStatsRow, CampaignCounts, CampaignStatus };

/** Newest first; `before` is the keyset cursor (created_at, id) of the previous page's last row. */
export interface CampaignListFilter {
  status?: CampaignStatus;
  before?: { createdAt: number; id: string };
  limit: number;
}

/** Days are UTC, YYYY-MM-DD, both bounds inclusive. */
export interface DayRange {
  since?: string;
  until?: string;
}

export interface CampaignWithStats {
  campaign: CampaignRow;
  /** All-time totals (zeros when nothing was counted yet). */
  totals: CampaignCounts;
  /** The counted days within the range, oldest first. */
  days: CampaignStatsRow[];
}

export interface CampaignStore {
  createCampaign(workspaceId: string, c: { id: string; name: string; status: CampaignStatus; at: number }): Promise<CampaignRow>;
  campaign(workspaceId: string, id: string): Promise<CampaignRow | undefined>;
  listCampaigns(workspaceId: string, f: CampaignListFilter): Promise<CampaignRow[]>;
  /** Renames and/or sets the status (the caller checked the change is allowed); undefined when it is not the workspace's. */
  updateCampaign(workspaceId: string, id: string, set: { name?: string; status?: CampaignStatus }, at: number): Promise<CampaignRow | undefined>;
  /** One campaign with its totals and its days in range, read together. */
  campaignWithStats(workspaceId: string, id: string, range?: DayRange): Promise<CampaignWithStats | undefined>;
  /** All-time totals of several campaigns (the list view); campaigns with nothing counted are absent. */
  campaignTotals(workspaceId: string, ids: string[]): Promise<Map<string, CampaignCounts>>;
}
