// The store's inbound group (db/store/store.ts): Inbound look-ups (VERP ids, provider message ids, Message-ID headers) and the outcomes they record (bounces, complaints, provider events).
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface InboundStore {}
