// The tenants group (db/store/tenants.ts) on D1.
import type { Db } from "../../client";
import type { TenantStore } from "../tenants";

export function d1Tenant(_db: Db): TenantStore {
  return {};
}
