import type { BreakerState } from "../core/routing/breaker";
import type { Db } from "./client";
import { circuitBreakers } from "./schema";

/** Mirrors a breaker's state into D1 for the API, metrics and reports (the caller logs and publishes each transition). */
export async function recordBreakerState(db: Db, workspaceId: string, providerId: string, b: BreakerState): Promise<void> {
  const row = {
    providerId,
    workspaceId,
    state: b.state,
    failureCount: b.consecutiveFailures,
    successCount: b.halfOpenSuccesses,
    lastFailureAt: b.lastFailureAt,
    stateChangedAt: b.changedAt,
  };
  await db.insert(circuitBreakers).values(row).onConflictDoUpdate({ target: circuitBreakers.providerId, set: row });
}
