// The metrics group (db/store/metrics.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/metrics.ts).
import type { MetricsStore } from "../../store/metrics";
import type { Runner } from "./sql";

export function mysqlMetrics(_db: Runner): MetricsStore {
  return {};
}
