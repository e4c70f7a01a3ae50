import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { apiKeys, workspaces } from "./schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** The key by its hash, with its workspace's status; null if unknown. */
export async function findApiKeyByHash(db: Db, keyHash: string) {
  return db
    .select({ key: apiKeys, workspaceStatus: workspaces.status })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .where(eq(apiKeys.keyHash, keyHash))
    .get();
}

/** Records use; throttled by the caller (once per cache load), so it is not a write per request. */
export async function touchApiKey(db: Db, workspaceId: string, id: string, at: number): Promise<void> {
  await db.update(apiKeys).set({ lastUsedAt: at }).where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)));
}

export async function insertApiKey(db: Db, row: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [created] = await db.insert(apiKeys).values(row).returning();
  return created!;
}

export const listApiKeys = (db: Db, workspaceId: string): Promise<ApiKeyRow[]> =>
  db.select().from(apiKeys).where(eq(apiKeys.workspaceId, workspaceId)).orderBy(apiKeys.createdAt, apiKeys.id).all();

export async function revokeApiKey(db: Db, workspaceId: string, id: string, at: number): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
