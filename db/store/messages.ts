// The store's messages group (db/store/store.ts): Message reads (detail, lists) and the tenant-facing message writes (cancel).
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface MessageStore {}
