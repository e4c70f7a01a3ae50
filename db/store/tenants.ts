// The store's tenants group (db/store/store.ts): Workspaces, API keys, workspace security (JWT issuers and users) and per-workspace settings writes.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface TenantStore {}
