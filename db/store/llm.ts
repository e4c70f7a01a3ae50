// The store's llm group (db/store/store.ts): what LLM personalization reads and writes while a
// message is delivered: the workspace's key (ciphertext), the answer cache (ciphertext), the
// daily token ledger, and the record on the message. Every operation is scoped: the workspace
// first, `workspace_id = ?` in every statement. (Setting the key and purging the cache belong to
// the tenants and retention groups.)
import type { PersonalizationRecord } from "../../core/llm/record";

export type { PersonalizationRecord };

export interface LlmStore {
  /** The workspace's LLM API key, encrypted (core/crypto.ts); null when none is set. */
  apiKeyEnc(workspaceId: string): Promise<string | null>;
  /** The cached (encrypted, masked) answer for this content hash, or null. */
  cachedAnswer(workspaceId: string, hash: string): Promise<string | null>;
  /** Stores or replaces the cached answer. */
  putCachedAnswer(workspaceId: string, hash: string, outputEnc: string, model: string, at: number): Promise<void>;
  /**
   * Takes `tokens` from the day's budget, atomically: concurrent consumers can never overspend
   * it together. False (nothing taken): the budget cannot cover it.
   */
  reserveTokens(workspaceId: string, day: string, tokens: number, budget: number): Promise<boolean>;
  /** Replaces a reservation by what the call really used (`delta` = used − reserved; never below 0). */
  adjustTokens(workspaceId: string, day: string, delta: number): Promise<void>;
  /** The day's ledger (zeros when nothing was reserved). */
  usage(workspaceId: string, day: string): Promise<{ tokens: number; calls: number }>;
  /** Records the message's personalization outcome once: a later call (a retry) never rewrites it. */
  recordPersonalization(workspaceId: string, messageId: string, record: PersonalizationRecord): Promise<void>;
}
