// The store's audit group (db/store/store.ts): The append-only audit trail: append, and reads per workspace.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface AuditStore {}
