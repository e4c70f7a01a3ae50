import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Db } from "./client";
import { senderDomains } from "./schema";

export type SenderDomainRow = typeof senderDomains.$inferSelect;

export async function insertSenderDomain(db: Db, row: typeof senderDomains.$inferInsert): Promise<SenderDomainRow> {
  const [created] = await db.insert(senderDomains).values(row).returning();
  return created!;
}

export const listSenderDomains = (db: Db, workspaceId: string): Promise<SenderDomainRow[]> =>
  db.select().from(senderDomains).where(eq(senderDomains.workspaceId, workspaceId)).orderBy(senderDomains.domain).all();

export const getSenderDomain = (db: Db, workspaceId: string, id: string): Promise<SenderDomainRow | undefined> =>
  db.select().from(senderDomains).where(and(eq(senderDomains.workspaceId, workspaceId), eq(senderDomains.id, id))).get();

/** Every verified domain of a workspace (the accept path caches this set per isolate). */
export const verifiedDomainsQuery = (db: Db, workspaceId: string) =>
  db
    .select({ domain: senderDomains.domain })
    .from(senderDomains)
    .where(and(eq(senderDomains.workspaceId, workspaceId), isNotNull(senderDomains.verifiedAt)))
    .limit(5000);

export async function markSenderDomainVerified(db: Db, workspaceId: string, id: string, at: number): Promise<SenderDomainRow | undefined> {
  const [row] = await db
    .update(senderDomains)
    .set({ verifiedAt: at })
    .where(and(eq(senderDomains.workspaceId, workspaceId), eq(senderDomains.id, id)))
    .returning();
  return row;
}

export async function deleteSenderDomain(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(senderDomains)
    .where(and(eq(senderDomains.workspaceId, workspaceId), eq(senderDomains.id, id)))
    .returning({ id: senderDomains.id });
  return rows.length > 0;
}

/** Of these domains, the ones no workspace has verified (the default workspace's inbound mail may use those). */
export async function unclaimedDomains(db: Db, domains: string[]): Promise<string[]> {
  const claimed = await db
    .select({ domain: senderDomains.domain })
    .from(senderDomains)
    .where(and(inArray(senderDomains.domain, domains), isNotNull(senderDomains.verifiedAt)))
    .all();
  const taken = new Set(claimed.map((r) => r.domain));
  return domains.filter((d) => !taken.has(d));
}
