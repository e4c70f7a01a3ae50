// The llm group (db/store/llm.ts) on D1.
import type { Db } from "../../client";
import type { LlmStore } from "../llm";

export function d1Llm(_db: Db): LlmStore {
  return {};
}
