// The llm group (db/store/llm.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/llm.ts).
import type { LlmStore } from "../../store/llm";
import type { Runner } from "./sql";

export function mysqlLlm(_db: Runner): LlmStore {
  return {};
}
