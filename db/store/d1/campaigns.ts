// The campaigns group (db/store/campaigns.ts) on D1: the db/campaigns.ts functions, which are its implementation.
import type { Db } from "../../client";
import { campaignTotals, campaignWithStats, getCampaign, insertCampaign, listCampaigns, updateCampaign } from "../../campaigns";
import type { CampaignStore } from "../campaigns";

export function d1Campaign(db: Db): CampaignStore {
  return {
    createCampaign: (ws, c) => insertCampaign(db, { id: c.id, workspaceId: ws, name: c.name, status: c.status, createdAt: c.at, updatedAt: c.at }),
    campaign: (ws, id) => getCampaign(db, ws, id),
    listCampaigns: (ws, f) => listCampaigns(db, ws, f),
    updateCampaign: (ws, id, set, at) => updateCampaign(db, ws, id, set, at),
    campaignWithStats: (ws, id, range) => campaignWithStats(db, ws, id, range),
    campaignTotals: (ws, ids) => campaignTotals(db, ws, ids),
  };
}
