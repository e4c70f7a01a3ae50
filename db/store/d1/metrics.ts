// The metrics group (db/store/metrics.ts) on D1: db/metrics.ts and the readiness queries of
// db/breakers.ts, as they are.
import { countOpenBreakers, pingDatabase } from "../../breakers";
import type { Db } from "../../client";
import { metricsSnapshot } from "../../metrics";
import type { MetricsStore } from "../metrics";

export function d1Metrics(db: Db): MetricsStore {
  return {
    snapshot: () => metricsSnapshot(db),
    openBreakers: () => countOpenBreakers(db),
    ping: () => pingDatabase(db),
  };
}
