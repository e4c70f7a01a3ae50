// The store's metrics group (db/store/store.ts): what /metrics and the readiness probe read.
// Every operation here is cross-tenant by nature: a scrape and a probe look at the whole relay.
// Operations are in core terms: no query builder, statement or driver type crosses them.
import type { MetricsSnapshot } from "../metrics";

export type { MetricsSnapshot };
/** The histogram's upper bounds (ms): the snapshot's `latency.buckets` are counted at these. */
export { LATENCY_BUCKETS_MS } from "../metrics";

export interface MetricsStore {
  /**
   * Cross-tenant: the aggregates /metrics exposes, per workspace and provider, read as one
   * consistent snapshot (D1: one batch; MySQL: one transaction).
   */
  snapshot(): Promise<MetricsSnapshot>;
  /** Cross-tenant: how many providers' breakers are open (the readiness report). */
  openBreakers(): Promise<number>;
  /** Whether the database answers a query (readiness); throws when it does not. */
  ping(): Promise<void>;
}
