// LLM personalization storage: the workspace's API key (ciphertext only), the answer cache, the
// daily token ledger, and the record on the message.
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { PersonalizationRecord } from "../core/llm/record";
import type { Db } from "./client";
import { llmCache, llmUsage, messages, workspaceSecurity } from "./schema";

export async function getLlmApiKeyEnc(db: Db, workspaceId: string): Promise<string | null> {
  const row = await db.select({ enc: workspaceSecurity.llmApiKeyEnc }).from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, workspaceId)).get();
  return row?.enc ?? null;
}

/** Stores (or with null, removes) the encrypted key. */
export async function setLlmApiKeyEnc(db: Db, workspaceId: string, enc: string | null, at: number): Promise<void> {
  await db
    .insert(workspaceSecurity)
    .values({ workspaceId, llmApiKeyEnc: enc, updatedAt: at })
    .onConflictDoUpdate({ target: workspaceSecurity.workspaceId, set: { llmApiKeyEnc: enc, updatedAt: at } });
}

export async function getCachedAnswer(db: Db, workspaceId: string, hash: string): Promise<string | null> {
  const row = await db
    .select({ enc: llmCache.outputEnc })
    .from(llmCache)
    .where(and(eq(llmCache.workspaceId, workspaceId), eq(llmCache.contentHash, hash)))
    .get();
  return row?.enc ?? null;
}

export async function putCachedAnswer(db: Db, workspaceId: string, hash: string, outputEnc: string, model: string, at: number): Promise<void> {
  await db
    .insert(llmCache)
    .values({ workspaceId, contentHash: hash, outputEnc, model, createdAt: at })
    .onConflictDoUpdate({ target: [llmCache.workspaceId, llmCache.contentHash], set: { outputEnc, model, createdAt: at } });
}

/** Cached answers older than `before` (retention): they are message content, however masked. */
export async function purgeLlmCache(db: Db, workspaceId: string, before: number): Promise<number> {
  const rows = await db
    .delete(llmCache)
    .where(and(eq(llmCache.workspaceId, workspaceId), lt(llmCache.createdAt, before)))
    .returning({ hash: llmCache.contentHash });
  return rows.length;
}

/**
 * Takes `tokens` from the day's budget in one statement (an upsert whose update only happens
 * while the sum stays within the budget), so concurrent consumers can never overspend it
 * together. False: the budget cannot cover it.
 */
export async function reserveTokens(db: Db, workspaceId: string, day: string, tokens: number, budget: number): Promise<boolean> {
  if (tokens > budget) return false;
  const rows = await db
    .insert(llmUsage)
    .values({ workspaceId, day, tokens, calls: 1 })
    .onConflictDoUpdate({
      target: [llmUsage.workspaceId, llmUsage.day],
      set: { tokens: sql`${llmUsage.tokens} + ${tokens}`, calls: sql`${llmUsage.calls} + 1` },
      setWhere: sql`${llmUsage.tokens} + ${tokens} <= ${budget}`,
    })
    .returning({ tokens: llmUsage.tokens });
  return rows.length > 0;
}

/** Replaces a reservation by what the call really used (`delta` = used − reserved). */
export async function adjustTokens(db: Db, workspaceId: string, day: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await db
    .update(llmUsage)
    .set({ tokens: sql`max(0, ${llmUsage.tokens} + ${delta})` })
    .where(and(eq(llmUsage.workspaceId, workspaceId), eq(llmUsage.day, day)));
}

export async function usageOn(db: Db, workspaceId: string, day: string): Promise<{ tokens: number; calls: number }> {
  const row = await db
    .select({ tokens: llmUsage.tokens, calls: llmUsage.calls })
    .from(llmUsage)
    .where(and(eq(llmUsage.workspaceId, workspaceId), eq(llmUsage.day, day)))
    .get();
  return row ?? { tokens: 0, calls: 0 };
}

/** Records the outcome once: a retry (or a concurrent redelivery) never rewrites it. */
export async function recordPersonalization(db: Db, workspaceId: string, messageId: string, record: PersonalizationRecord): Promise<void> {
  await db
    .update(messages)
    .set({ personalization: record as unknown as Record<string, unknown> })
    .where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, messageId), isNull(messages.personalization)));
}
