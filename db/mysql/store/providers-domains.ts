// The sender domains of the providers group (db/store/providers.ts) on MySQL, with
// db/sender-domains.ts's meaning. MySQL has no partial unique index: the stored generated column
// `verified_domain` (the domain while verified, else NULL) carries the unique index that allows
// one verified claim per domain. A duplicate is errno 1062 (ER_DUP_ENTRY), returned as a value.
//
// Verification. D1 checks "no other workspace has verified this domain or a parent" and writes in
// one UPDATE … WHERE NOT EXISTS (SELECT … same table); MySQL refuses a subquery on the table being
// updated (error 1093). So it is a transaction: a locking read of the verified claims on the
// domain and its parents (on the verified_domain index: InnoDB locks the matching rows, and the
// gaps where absent names would go, so a concurrent verification of any of those names waits or
// deadlocks), then the UPDATE. A deadlock victim runs again (sql.ts transaction) and then sees the
// other's commit: the outcome is the one of some serial order, as on D1.
import { and, asc, eq, getTableColumns, inArray, isNotNull, ne } from "drizzle-orm";
import { senderDomains } from "../schema";
import { domainAndParents } from "../../sender-domains";
import type { ProviderStore, SenderDomainRow } from "../../store/providers";
import { isDuplicateEntry, type Runner, type Sql } from "./sql";

/** The D1 row's columns: every column but the generated `verified_domain`. */
const { verifiedDomain: _generated, ...domainColumns } = getTableColumns(senderDomains);

type DomainOps = Pick<ProviderStore, "createDomain" | "domains" | "domain" | "verifyDomain" | "deleteDomain" | "verifiedClaimElsewhere">;

export function mysqlSenderDomains(db: Runner): DomainOps {
  return {
    createDomain: async (ws, d) => {
      try {
        return await db.tx(async (q) => {
          await q.orm.insert(senderDomains).values({ id: d.id, workspaceId: ws, domain: d.domain, verificationToken: d.verificationToken, verifiedAt: d.verifiedAt ?? null });
          return { status: "created" as const, domain: (await getDomain(q, ws, d.id))! };
        });
      } catch (e) {
        // (workspace, domain) is unique; so is a verified domain (a bootstrap racing a verify).
        if (isDuplicateEntry(e)) return { status: "duplicate" as const };
        throw e;
      }
    },
    domains: (ws) => db.run((q) => q.orm.select(domainColumns).from(senderDomains).where(eq(senderDomains.workspaceId, ws)).orderBy(asc(senderDomains.domain))),
    domain: (ws, id) => db.run((q) => getDomain(q, ws, id)),
    verifyDomain: async (ws, id, domain, at) => {
      try {
        return await db.tx((q) => verify(q, ws, id, domain, at));
      } catch (e) {
        // Another workspace verified the same domain between our read and our write.
        if (isDuplicateEntry(e)) return undefined;
        throw e;
      }
    },
    deleteDomain: (ws, id) => db.run(async (q) => (await q.exec("DELETE FROM `sender_domains` WHERE `workspace_id` = ? AND `id` = ?", [ws, id])) > 0),
    // Cross-tenant by design (see the interface): reads other workspaces' verified claims, answers with the name only.
    verifiedClaimElsewhere: (ws, domain) =>
      db.run(async (q) => {
        const [row] = await q.orm
          .select({ domain: senderDomains.domain })
          .from(senderDomains)
          .where(and(inArray(senderDomains.domain, domainAndParents(domain)), isNotNull(senderDomains.verifiedAt), ne(senderDomains.workspaceId, ws)))
          .limit(1);
        return row;
      }),
  };
}

async function getDomain(q: Sql, ws: string, id: string): Promise<SenderDomainRow | undefined> {
  const [row] = await q.orm
    .select(domainColumns)
    .from(senderDomains)
    .where(and(eq(senderDomains.workspaceId, ws), eq(senderDomains.id, id)));
  return row;
}

/** The locking read of every claim on the domain or a parent, then the UPDATE, in one transaction. */
async function verify(q: Sql, ws: string, id: string, domain: string, at: number): Promise<SenderDomainRow | undefined> {
  const owners = await q.rows<{ workspace_id: string }>("SELECT `workspace_id` FROM `sender_domains` WHERE `verified_domain` IN (?) FOR UPDATE", [domainAndParents(domain)]);
  if (owners.some((o) => o.workspace_id !== ws)) return undefined;
  const matched = await q.exec("UPDATE `sender_domains` SET `verified_at` = ? WHERE `workspace_id` = ? AND `id` = ? AND `verified_at` IS NULL", [at, ws, id]);
  return matched === 1 ? getDomain(q, ws, id) : undefined;
}
