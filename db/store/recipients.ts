// The store's recipients group (db/store/store.ts): Recipient records, recipient lists and their members, suppressions as the API lists them, and erasure.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface RecipientStore {}
