// The store's webhooks group (db/store/store.ts): Customer webhook endpoints, their events and the delivery loop's claims and attempts, and provider signing keys.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface WebhookStore {}
