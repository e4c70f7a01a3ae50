import { eq } from "drizzle-orm";
import type { BreakerState } from "../core/routing/breaker";
import type { Db } from "./client";
import { circuitBreakers } from "./schema";

/**
 * Mirrors a breaker's state into D1 for the API, metrics and reports (the caller logs and
 * publishes each transition). The row is keyed by provider; one another workspace holds is left alone.
 */
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
  await db.insert(circuitBreakers).values(row).onConflictDoUpdate({ target: circuitBreakers.providerId, set: row, setWhere: eq(circuitBreakers.workspaceId, workspaceId) });
}

/** Providers whose breaker is open, across every workspace (the readiness report). */
export async function countOpenBreakers(db: Db): Promise<number> {
  const row = await db.$client.prepare(`SELECT COUNT(*) AS n FROM "circuit_breakers" WHERE "state" = 'open'`).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Whether the database answers a query (readiness). Throws when it does not. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$client.prepare("SELECT 1").first();
}
