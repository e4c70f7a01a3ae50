import { and, asc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { providers } from "./schema";

export type ProviderRow = typeof providers.$inferSelect;
export type NewProvider = typeof providers.$inferInsert;
/** What an update may change (updated_at is stamped by it). */
export type ProviderPatch = Partial<Pick<ProviderRow, "name" | "config" | "credentialsEnc" | "status" | "priority" | "weight" | "baaCovered">>;

export async function insertProvider(db: Db, row: NewProvider): Promise<ProviderRow> {
  const [created] = await db.insert(providers).values(row).returning();
  return created!;
}

export const listProviders = (db: Db, workspaceId: string): Promise<ProviderRow[]> =>
  db.select().from(providers).where(eq(providers.workspaceId, workspaceId)).orderBy(asc(providers.priority), asc(providers.createdAt)).all();

export const getProvider = (db: Db, workspaceId: string, id: string): Promise<ProviderRow | undefined> =>
  db.select().from(providers).where(and(eq(providers.workspaceId, workspaceId), eq(providers.id, id))).get();

export async function updateProvider(
  db: Db,
  workspaceId: string,
  id: string,
  patch: ProviderPatch,
  at: number,
): Promise<ProviderRow | undefined> {
  const [row] = await db
    .update(providers)
    .set({ ...patch, updatedAt: at })
    .where(and(eq(providers.workspaceId, workspaceId), eq(providers.id, id)))
    .returning();
  return row;
}

export async function deleteProvider(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(providers)
    .where(and(eq(providers.workspaceId, workspaceId), eq(providers.id, id)))
    .returning({ id: providers.id });
  return rows.length > 0;
}
