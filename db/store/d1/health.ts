// The health group (db/store/health.ts) on D1: db/breakers.ts and db/health-checks.ts. Inside a
// queue batch `db` is the batch's coalescing view, so routing's reads share its round trips.
import type { Db } from "../../client";
import { recordBreakerState } from "../../breakers";
import { enabledProvidersEverywhere, latestHealth, recordHealthChecks, routingHealth } from "../../health-checks";
import type { HealthStore } from "../health";

export function d1Health(db: Db): HealthStore {
  return {
    recordBreakerState: (ws, providerId, b) => recordBreakerState(db, ws, providerId, b),
    recordChecks: (rows, pruneBefore) => recordHealthChecks(db, rows, pruneBefore),
    latest: (ws, providerIds) => latestHealth(db, ws, providerIds),
    routingHealth: (ws, providerIds) => routingHealth(db, ws, providerIds),
    enabledProvidersEverywhere: () => enabledProvidersEverywhere(db),
  };
}
