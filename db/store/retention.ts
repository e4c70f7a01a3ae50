// The store's retention group (db/store/store.ts): Retention: expired bodies, purges, pruning of caches and tokens.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface RetentionStore {}
