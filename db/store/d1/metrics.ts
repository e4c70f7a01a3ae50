// The metrics group (db/store/metrics.ts) on D1.
import type { Db } from "../../client";
import type { MetricsStore } from "../metrics";

export function d1Metrics(_db: Db): MetricsStore {
  return {};
}
