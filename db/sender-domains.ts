// Sender domains and who may claim them. Any workspace may register any domain; only a
// verification (the DNS TXT proof) makes a claim exclusive. A verified domain reserves itself
// and every name under it: no other workspace can verify (or register) clinic.example nor
// mail.clinic.example once one has verified clinic.example. The reverse is allowed: verifying
// clinic.example later does not take mail.clinic.example from the workspace that verified it
// first, and grants no sending as it (sending is by exact domain).
import { and, eq, inArray, isNotNull, isNull, ne, notExists, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { senderDomains } from "./schema";

/** The domain and each parent: mail.clinic.example → [mail.clinic.example, clinic.example, example]. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.toLowerCase().split(".");
  return labels.map((_, i) => labels.slice(i).join("."));
}

export type SenderDomainRow = typeof senderDomains.$inferSelect;

export async function insertSenderDomain(db: Db, row: typeof senderDomains.$inferInsert): Promise<SenderDomainRow> {
  const [created] = await db.insert(senderDomains).values(row).returning();
  return created!;
}

export const listSenderDomains = (db: Db, workspaceId: string): Promise<SenderDomainRow[]> =>
  db.select().from(senderDomains).where(eq(senderDomains.workspaceId, workspaceId)).orderBy(senderDomains.domain).all();

export const getSenderDomain = (db: Db, workspaceId: string, id: string): Promise<SenderDomainRow | undefined> =>
  db.select().from(senderDomains).where(and(eq(senderDomains.workspaceId, workspaceId), eq(senderDomains.id, id))).get();

/** Another workspace's verified claim on this domain or a parent of it (the owner of its name space), if any. */
export const verifiedClaimElsewhere = (db: Db, workspaceId: string, domain: string): Promise<{ domain: string } | undefined> =>
  db
    .select({ domain: senderDomains.domain })
    .from(senderDomains)
    .where(and(inArray(senderDomains.domain, domainAndParents(domain)), isNotNull(senderDomains.verifiedAt), ne(senderDomains.workspaceId, workspaceId)))
    .limit(1)
    .get();

/**
 * Marks the claim verified unless another workspace has meanwhile verified the domain or a
 * parent: one statement, so the check and the write cannot be split by a concurrent verify
 * (the partial unique index also refuses a second verified claim on the same domain).
 * Undefined: not verified (no such claim, or the name space is another workspace's).
 */
export async function markSenderDomainVerified(db: Db, workspaceId: string, id: string, domain: string, at: number): Promise<SenderDomainRow | undefined> {
  const other = alias(senderDomains, "other");
  const [row] = await db
    .update(senderDomains)
    .set({ verifiedAt: at })
    .where(
      and(
        eq(senderDomains.workspaceId, workspaceId),
        eq(senderDomains.id, id),
        isNull(senderDomains.verifiedAt),
        notExists(
          db
            .select({ one: sql`1` })
            .from(other)
            .where(and(inArray(other.domain, domainAndParents(domain)), isNotNull(other.verifiedAt), ne(other.workspaceId, workspaceId))),
        ),
      ),
    )
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

/**
 * Of these domains, the ones in no workspace's verified name space (the default workspace's
 * inbound mail may use those): neither the domain nor a parent of it is verified anywhere.
 */
export async function unclaimedDomains(db: Db, domains: string[]): Promise<string[]> {
  const names = [...new Set(domains.flatMap(domainAndParents))];
  const claimed = await db
    .select({ domain: senderDomains.domain })
    .from(senderDomains)
    .where(and(inArray(senderDomains.domain, names), isNotNull(senderDomains.verifiedAt)))
    .all();
  const taken = new Set(claimed.map((r) => r.domain));
  return domains.filter((d) => !domainAndParents(d).some((n) => taken.has(n)));
}
