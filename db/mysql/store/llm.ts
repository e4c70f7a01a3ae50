// The llm group (db/store/llm.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/llm.ts;
// db/llm.ts is the specification). Each operation is one or two statements outside a transaction:
// none of them needs more than one statement to be atomic.
import { and, eq } from "drizzle-orm";
import { llmCache, llmUsage, workspaceSecurity } from "../schema";
import type { LlmStore } from "../../store/llm";
import type { Runner } from "./sql";

export function mysqlLlm(db: Runner): LlmStore {
  return {
    apiKeyEnc: (ws) =>
      db.run(async (q) => {
        const [row] = await q.orm.select({ enc: workspaceSecurity.llmApiKeyEnc }).from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, ws));
        return row?.enc ?? null;
      }),
    cachedAnswer: (ws, hash) =>
      db.run(async (q) => {
        const [row] = await q.orm
          .select({ enc: llmCache.outputEnc })
          .from(llmCache)
          .where(and(eq(llmCache.workspaceId, ws), eq(llmCache.contentHash, hash)));
        return row?.enc ?? null;
      }),
    putCachedAnswer: (ws, hash, outputEnc, model, at) =>
      db.run(async (q) => {
        await q.orm.insert(llmCache).values({ workspaceId: ws, contentHash: hash, outputEnc, model, createdAt: at }).onDuplicateKeyUpdate({ set: { outputEnc, model, createdAt: at } });
      }),
    /**
     * D1 does it in one conditional upsert (ON CONFLICT … DO UPDATE … WHERE). Here: the day's row
     * is made to exist (an upsert that changes nothing when it does), then one UPDATE takes the
     * tokens only while the sum stays within the budget. That UPDATE is atomic on its own (it
     * locks the row and re-reads it), so concurrent consumers cannot overspend together; it
     * matched the row exactly when it took them (mysql2's FOUND_ROWS counts matched rows, and a
     * row the WHERE refuses is not matched).
     */
    reserveTokens: async (ws, day, tokens, budget) => {
      if (tokens > budget) return false;
      return db.run(async (q) => {
        await q.exec("INSERT INTO `llm_usage` (`workspace_id`, `day`, `tokens`, `calls`) VALUES (?, ?, 0, 0) ON DUPLICATE KEY UPDATE `tokens` = `tokens`", [ws, day]);
        const matched = await q.exec("UPDATE `llm_usage` SET `tokens` = `tokens` + ?, `calls` = `calls` + 1 WHERE `workspace_id` = ? AND `day` = ? AND `tokens` + ? <= ?", [
          tokens,
          ws,
          day,
          tokens,
          budget,
        ]);
        return matched === 1;
      });
    },
    adjustTokens: async (ws, day, delta) => {
      if (delta === 0) return;
      await db.run((q) => q.exec("UPDATE `llm_usage` SET `tokens` = GREATEST(0, `tokens` + ?) WHERE `workspace_id` = ? AND `day` = ?", [delta, ws, day]));
    },
    usage: (ws, day) =>
      db.run(async (q) => {
        const [row] = await q.orm
          .select({ tokens: llmUsage.tokens, calls: llmUsage.calls })
          .from(llmUsage)
          .where(and(eq(llmUsage.workspaceId, ws), eq(llmUsage.day, day)));
        return row ?? { tokens: 0, calls: 0 };
      }),
    // Only while none is recorded: a retry (or a concurrent redelivery) never rewrites it.
    recordPersonalization: (ws, messageId, record) =>
      db.run(async (q) => {
        await q.exec("UPDATE `messages` SET `personalization` = ? WHERE `workspace_id` = ? AND `id` = ? AND `personalization` IS NULL", [JSON.stringify(record), ws, messageId]);
      }),
  };
}
