// The store's llm group (db/store/store.ts): LLM personalization: token budgets, the answer cache, usage.
// Operations are in core terms: no query builder, statement or driver type crosses them.
export interface LlmStore {}
