// The store's accept group (db/store/store.ts): The accept path: what a send needs to decide (settings, suppressions, campaign status, inbound workspace resolution) and the one durable write of a message with its recipients, idempotency record and Message-ID generation.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface AcceptStore {}
