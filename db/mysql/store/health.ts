// The health group (db/store/health.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/health.ts).
import type { HealthStore } from "../../store/health";
import type { Runner } from "./sql";

export function mysqlHealth(_db: Runner): HealthStore {
  return {};
}
