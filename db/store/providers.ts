// The store's providers group (db/store/store.ts): Providers, their quotas and the sender domains a workspace sends from.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface ProviderStore {}
