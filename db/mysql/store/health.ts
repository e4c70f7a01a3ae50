// The health group (db/store/health.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/health.ts; db/breakers.ts and db/health-checks.ts are the specification).
import { and, eq, inArray } from "drizzle-orm";
import { circuitBreakers, healthChecks, providers } from "../schema";
import { newestPerProvider, type HealthCheckRow } from "../../health-checks";
import type { HealthStore, NewHealthCheck } from "../../store/health";
import { columnList, insertRows, mapRows, type Runner, type Sql } from "./sql";

/** Results per transaction, as D1's batches of 50: each stays small. */
const CHECKS_PER_TX = 50;

export function mysqlHealth(db: Runner): HealthStore {
  return {
    // Upsert on the provider id; the update is skipped (each column kept) when the row is another workspace's.
    recordBreakerState: (ws, providerId, b) =>
      db.run(async (q) => {
        const own = "`workspace_id` = VALUES(`workspace_id`)";
        await q.exec(
          `INSERT INTO \`circuit_breakers\` (\`provider_id\`, \`workspace_id\`, \`state\`, \`failure_count\`, \`success_count\`, \`last_failure_at\`, \`state_changed_at\`)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE
             \`state\` = IF(${own}, VALUES(\`state\`), \`state\`),
             \`failure_count\` = IF(${own}, VALUES(\`failure_count\`), \`failure_count\`),
             \`success_count\` = IF(${own}, VALUES(\`success_count\`), \`success_count\`),
             \`last_failure_at\` = IF(${own}, VALUES(\`last_failure_at\`), \`last_failure_at\`),
             \`state_changed_at\` = IF(${own}, VALUES(\`state_changed_at\`), \`state_changed_at\`)`,
          [providerId, ws, b.state, b.consecutiveFailures, b.halfOpenSuccesses, b.lastFailureAt, b.changedAt],
        );
      }),
    recordChecks: async (rows, pruneBefore) => {
      for (let i = 0; i < rows.length; i += CHECKS_PER_TX) {
        const chunk = rows.slice(i, i + CHECKS_PER_TX);
        await db.tx((q) => recordChecks(q, chunk, pruneBefore));
      }
    },
    latest: async (ws, providerIds) => (providerIds.length === 0 ? new Map() : newestPerProvider(await db.run((q) => latestChecks(q, ws, providerIds)))),
    // Two reads on one connection (D1: one batch). Not a transaction: a check and a breaker state a
    // moment apart are compared by their own timestamps (core/routing/health.ts), and this is on
    // the delivery path, where BEGIN/COMMIT would be two more round trips.
    routingHealth: async (ws, providerIds) => {
      if (providerIds.length === 0) return { checks: new Map(), breakers: new Map() };
      return db.run(async (q) => {
        const checks = await latestChecks(q, ws, providerIds);
        const breakers = await q.orm
          .select({ providerId: circuitBreakers.providerId, state: circuitBreakers.state, changedAt: circuitBreakers.stateChangedAt })
          .from(circuitBreakers)
          .where(and(eq(circuitBreakers.workspaceId, ws), inArray(circuitBreakers.providerId, [...providerIds])));
        return { checks: newestPerProvider(checks), breakers: new Map(breakers.map((b) => [b.providerId, { state: b.state, changedAt: b.changedAt }])) };
      });
    },
    // Cross-tenant by design: the job probes every workspace's providers.
    enabledProvidersEverywhere: () => db.run((q) => q.orm.select().from(providers).where(eq(providers.status, "enabled"))),
  };
}

/** The results (one multi-row INSERT), then each probed provider's older checks, within its own workspace (one DELETE). */
async function recordChecks(q: Sql, rows: NewHealthCheck[], before: number): Promise<void> {
  if (rows.length === 0) return;
  // Every row gets every column (the ones left out take D1's defaults here too), so one statement fits all.
  const full = rows.map((r) => ({ id: r.id, providerId: r.providerId, workspaceId: r.workspaceId, status: r.status, latencyMs: r.latencyMs ?? null, detail: r.detail ?? null, checkedAt: r.checkedAt ?? Date.now() }));
  const { sql, values } = insertRows(healthChecks, full);
  await q.exec(sql, values);
  const pairs = [...new Map(rows.map((r) => [`${r.workspaceId}\u0000${r.providerId}`, [r.providerId, r.workspaceId] as const])).values()];
  await q.exec(`DELETE FROM \`health_checks\` WHERE \`checked_at\` < ? AND (\`provider_id\`, \`workspace_id\`) IN (${pairs.map(() => "(?, ?)").join(", ")})`, [before, ...pairs.flat()]);
}

/** The newest check(s) of each provider: the checked_at maximum per provider, one index probe each (ties resolved by newestPerProvider). */
async function latestChecks(q: Sql, ws: string, providerIds: readonly string[]): Promise<HealthCheckRow[]> {
  const rows = await q.rows(
    `SELECT ${columnList(healthChecks)} FROM \`health_checks\`
     WHERE \`workspace_id\` = ? AND \`provider_id\` IN (?)
       AND \`checked_at\` = (SELECT max(h2.\`checked_at\`) FROM \`health_checks\` h2 WHERE h2.\`provider_id\` = \`health_checks\`.\`provider_id\`)`,
    [ws, [...providerIds]],
  );
  return mapRows(healthChecks, rows);
}
