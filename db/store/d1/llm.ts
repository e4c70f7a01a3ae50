// The llm group (db/store/llm.ts) on D1: db/llm.ts. Inside a queue batch `db` is the batch's
// coalescing view (delivery's enrich step runs there).
import type { Db } from "../../client";
import { adjustTokens, getCachedAnswer, getLlmApiKeyEnc, putCachedAnswer, recordPersonalization, reserveTokens, usageOn } from "../../llm";
import type { LlmStore } from "../llm";

export function d1Llm(db: Db): LlmStore {
  return {
    apiKeyEnc: (ws) => getLlmApiKeyEnc(db, ws),
    cachedAnswer: (ws, hash) => getCachedAnswer(db, ws, hash),
    putCachedAnswer: (ws, hash, outputEnc, model, at) => putCachedAnswer(db, ws, hash, outputEnc, model, at),
    reserveTokens: (ws, day, tokens, budget) => reserveTokens(db, ws, day, tokens, budget),
    adjustTokens: (ws, day, delta) => adjustTokens(db, ws, day, delta),
    usage: (ws, day) => usageOn(db, ws, day),
    recordPersonalization: (ws, messageId, record) => recordPersonalization(db, ws, messageId, record),
  };
}
