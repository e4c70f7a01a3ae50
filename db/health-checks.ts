// Provider health-check results: one row per probe, written by the periodic job and by
// POST /v1/providers/{id}/health-check. Routing and the API only ever need the latest row per
// provider, which the (provider_id, checked_at) index answers directly.
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { circuitBreakers, healthChecks, providers } from "./schema";

export type HealthCheckRow = typeof healthChecks.$inferSelect;
export type NewHealthCheck = typeof healthChecks.$inferInsert;

const insertHealthCheckQuery = (db: Db, row: NewHealthCheck) => db.insert(healthChecks).values(row);

export async function insertHealthCheck(db: Db, row: NewHealthCheck): Promise<void> {
  await insertHealthCheckQuery(db, row).run();
}

/**
 * Records probe results and prunes each probed provider's checks older than `before`, insert and
 * prune side by side: one batch per 50 results (D1 batches are transactions, so each stays small).
 */
export async function recordHealthChecks(db: Db, rows: NewHealthCheck[], before: number): Promise<void> {
  for (let i = 0; i < rows.length; i += 50) {
    const [first, ...rest] = rows.slice(i, i + 50).flatMap((r) => [insertHealthCheckQuery(db, r), pruneHealthChecksQuery(db, r.workspaceId, r.providerId, before)]);
    if (first) await db.batch([first, ...rest]);
  }
}

const latestHealthQuery = (db: Db, workspaceId: string, providerIds: readonly string[]) =>
  db
    .select()
    .from(healthChecks)
    .where(
      and(
        eq(healthChecks.workspaceId, workspaceId),
        inArray(healthChecks.providerId, [...providerIds]),
        // Correlated on the outer row's provider: one index probe per provider.
        eq(healthChecks.checkedAt, sql`(select max(h2.checked_at) from health_checks h2 where h2.provider_id = ${healthChecks.providerId})`),
      ),
    );

/** One row per provider: the newest (the latest-check queries may return ties). */
export function newestPerProvider(rows: HealthCheckRow[]): Map<string, HealthCheckRow> {
  const out = new Map<string, HealthCheckRow>();
  // Two checks in the same millisecond: keep one deterministically.
  for (const r of rows) {
    const seen = out.get(r.providerId);
    if (!seen || r.id > seen.id) out.set(r.providerId, r);
  }
  return out;
}

/** The newest check of each given provider of the workspace (providers never checked are absent). */
export async function latestHealth(db: Db, workspaceId: string, providerIds: readonly string[]): Promise<Map<string, HealthCheckRow>> {
  if (providerIds.length === 0) return new Map();
  return newestPerProvider(await latestHealthQuery(db, workspaceId, providerIds).all());
}

export interface RoutingHealth {
  checks: Map<string, HealthCheckRow>;
  /** The breakers' D1 mirror (state and when it changed), so a probe the breaker has overtaken is ignored. */
  breakers: Map<string, { state: "closed" | "open" | "half_open"; changedAt: number }>;
}

/** Routing's health view: the latest checks and the breakers' mirrored states, in one round trip. */
export async function routingHealth(db: Db, workspaceId: string, providerIds: readonly string[]): Promise<RoutingHealth> {
  if (providerIds.length === 0) return { checks: new Map(), breakers: new Map() };
  const [checks, breakers] = await db.batch([
    latestHealthQuery(db, workspaceId, providerIds),
    db
      .select({ providerId: circuitBreakers.providerId, state: circuitBreakers.state, changedAt: circuitBreakers.stateChangedAt })
      .from(circuitBreakers)
      .where(and(eq(circuitBreakers.workspaceId, workspaceId), inArray(circuitBreakers.providerId, [...providerIds]))),
  ]);
  return { checks: newestPerProvider(checks), breakers: new Map(breakers.map((b) => [b.providerId, { state: b.state, changedAt: b.changedAt }])) };
}

/** Deletes one provider's checks older than `before` (uses the provider index, no table scan; the workspace is the provider's). */
const pruneHealthChecksQuery = (db: Db, workspaceId: string, providerId: string, before: number) =>
  db.delete(healthChecks).where(and(eq(healthChecks.workspaceId, workspaceId), eq(healthChecks.providerId, providerId), lt(healthChecks.checkedAt, before)));

/** Every enabled provider of every workspace (the health-check job's work list). */
export const enabledProvidersEverywhere = (db: Db) => db.select().from(providers).where(eq(providers.status, "enabled")).all();
