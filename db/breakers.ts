import { and, eq, inArray } from "drizzle-orm";
import type { Transition, BreakerState } from "../core/routing/breaker";
import type { Db } from "./client";
import { circuitBreakers } from "./schema";

/** Mirrors a breaker's state into D1 for the API and reports (each transition is also logged as an event by the caller). */
export async function recordBreakerTransitions(db: Db, workspaceId: string, providerId: string, b: BreakerState, _transitions: Transition[]): Promise<void> {
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

export const listBreakers = (db: Db, workspaceId: string, providerIds: string[]) =>
  providerIds.length === 0
    ? Promise.resolve([])
    : db.select().from(circuitBreakers).where(and(eq(circuitBreakers.workspaceId, workspaceId), inArray(circuitBreakers.providerId, providerIds))).all();
