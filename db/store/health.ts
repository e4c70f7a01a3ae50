// The store's health group (db/store/store.ts): the circuit breakers' database mirror and provider
// health checks. The scoped reads take the workspace first; the health-check job's operations
// (`recordChecks`, `enabledProvidersEverywhere`) serve every workspace and say so.
import type { BreakerState } from "../../core/routing/breaker";
import type { HealthCheckRow, NewHealthCheck, RoutingHealth } from "../health-checks";
import type { ProviderRow } from "../providers";

export type { BreakerState, HealthCheckRow, NewHealthCheck, RoutingHealth };

export interface HealthStore {
  /**
   * Mirrors a provider's breaker (for the API, routing's health filter and reports). A row
   * another workspace holds for the id is left alone.
   */
  recordBreakerState(workspaceId: string, providerId: string, b: BreakerState): Promise<void>;
  /**
   * CROSS-TENANT (the health-check job, or one provider's probe): records the results and prunes
   * each probed provider's checks older than `pruneBefore`, within the row's own workspace.
   * Results and prunes commit together, in transactions of at most 50 results.
   */
  recordChecks(rows: NewHealthCheck[], pruneBefore: number): Promise<void>;
  /** The newest check of each given provider of the workspace (never-checked providers are absent). */
  latest(workspaceId: string, providerIds: readonly string[]): Promise<Map<string, HealthCheckRow>>;
  /** Routing's view: the newest checks and the breakers' mirrored states, in one round trip on D1. */
  routingHealth(workspaceId: string, providerIds: readonly string[]): Promise<RoutingHealth>;
  /** CROSS-TENANT: every enabled provider of every workspace (the health-check job's work list). */
  enabledProvidersEverywhere(): Promise<ProviderRow[]>;
}
