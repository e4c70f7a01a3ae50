// The campaigns group (db/store/campaigns.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/campaigns.ts).
import type { CampaignStore } from "../../store/campaigns";
import type { Runner } from "./sql";

export function mysqlCampaign(_db: Runner): CampaignStore {
  return {};
}
