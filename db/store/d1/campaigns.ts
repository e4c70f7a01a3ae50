// The campaigns group (db/store/campaigns.ts) on D1.
import type { Db } from "../../client";
import type { CampaignStore } from "../campaigns";

export function d1Campaign(_db: Db): CampaignStore {
  return {};
}
