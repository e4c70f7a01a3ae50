// The store's campaigns group (db/store/store.ts): Campaigns and their statistics.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface CampaignStore {}
