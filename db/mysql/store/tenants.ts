// The tenants group (db/store/tenants.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/tenants.ts).
import type { TenantStore } from "../../store/tenants";
import type { Runner } from "./sql";

export function mysqlTenant(_db: Runner): TenantStore {
  return {};
}
