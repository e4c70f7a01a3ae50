// Provider health-check results: one row per probe, written by the periodic job and by
// POST /v1/providers/{id}/health-check. Routing and the API only ever need the latest row per
// provider, which the (provider_id, checked_at) index answers directly.
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { healthChecks, providers } from "./schema";

export type HealthCheckRow = typeof healthChecks.$inferSelect;
export type NewHealthCheck = typeof healthChecks.$inferInsert;

export const insertHealthCheckQuery = (db: Db, row: NewHealthCheck) => db.insert(healthChecks).values(row);

export async function insertHealthCheck(db: Db, row: NewHealthCheck): Promise<void> {
  await insertHealthCheckQuery(db, row).run();
}

/** The newest check of each given provider of the workspace (providers never checked are absent). */
export async function latestHealth(db: Db, workspaceId: string, providerIds: readonly string[]): Promise<Map<string, HealthCheckRow>> {
  const out = new Map<string, HealthCheckRow>();
  if (providerIds.length === 0) return out;
  const rows = await db
    .select()
    .from(healthChecks)
    .where(
      and(
        eq(healthChecks.workspaceId, workspaceId),
        inArray(healthChecks.providerId, [...providerIds]),
        // Correlated on the outer row's provider: one index probe per provider.
        eq(healthChecks.checkedAt, sql`(select max(h2.checked_at) from health_checks h2 where h2.provider_id = ${healthChecks.providerId})`),
      ),
    )
    .all();
  // Two checks in the same millisecond: keep one deterministically.
  for (const r of rows) {
    const seen = out.get(r.providerId);
    if (!seen || r.id > seen.id) out.set(r.providerId, r);
  }
  return out;
}

/** Deletes one provider's checks older than `before` (uses the provider index, no table scan). */
export const pruneHealthChecksQuery = (db: Db, providerId: string, before: number) =>
  db.delete(healthChecks).where(and(eq(healthChecks.providerId, providerId), lt(healthChecks.checkedAt, before)));

/** Every enabled provider of every workspace (the health-check job's work list). */
export const enabledProvidersEverywhere = (db: Db) => db.select().from(providers).where(eq(providers.status, "enabled")).all();
