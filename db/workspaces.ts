import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { workspaces } from "./schema";

export type WorkspaceRow = typeof workspaces.$inferSelect;

export async function insertWorkspace(db: Db, row: typeof workspaces.$inferInsert): Promise<WorkspaceRow> {
  const [created] = await db.insert(workspaces).values(row).returning();
  return created!;
}

export const listWorkspaces = (db: Db): Promise<WorkspaceRow[]> => db.select().from(workspaces).orderBy(workspaces.createdAt, workspaces.id).all();

export async function getWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  return db.select().from(workspaces).where(eq(workspaces.id, id)).get();
}

export async function updateWorkspaceConfiguration(db: Db, id: string, configuration: Record<string, unknown>, at: number): Promise<WorkspaceRow | undefined> {
  const [row] = await db.update(workspaces).set({ configuration, updatedAt: at }).where(eq(workspaces.id, id)).returning();
  return row;
}
