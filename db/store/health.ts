// The store's health group (db/store/store.ts): Circuit breaker mirrors and provider health checks.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface HealthStore {}
