// The store's metrics group (db/store/store.ts): What /metrics and the readiness probe read.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface MetricsStore {}
