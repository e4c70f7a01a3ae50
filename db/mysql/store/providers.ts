// The providers group (db/store/providers.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/providers.ts; db/providers.ts and db/provider-quotas.ts are the specification).
// Ordinary CRUD through drizzle's mysql-core builders; MySQL has no RETURNING, so a write reads
// its row back inside the same transaction (the row is locked by the write, so the read is what
// it wrote). The sender domains are in providers-domains.ts.
import { and, asc, eq } from "drizzle-orm";
import { newId } from "../../../core/ids";
import { providers, rateLimits } from "../schema";
import type { ProviderQuotaInput, ProviderRow, ProviderStore, QuotaRow } from "../../store/providers";
import { mysqlSenderDomains } from "./providers-domains";
import type { Runner, Sql } from "./sql";

export function mysqlProvider(db: Runner): ProviderStore {
  return {
    create: (ws, row) =>
      db.tx(async (q) => {
        await q.orm.insert(providers).values({ ...row, workspaceId: ws });
        return (await getProvider(q, ws, row.id))!;
      }),
    list: (ws) => db.run((q) => q.orm.select().from(providers).where(eq(providers.workspaceId, ws)).orderBy(asc(providers.priority), asc(providers.createdAt))),
    get: (ws, id) => db.run((q) => getProvider(q, ws, id)),
    update: (ws, id, patch, at) =>
      db.tx(async (q) => {
        await q.orm
          .update(providers)
          .set({ ...patch, updatedAt: at })
          .where(and(eq(providers.workspaceId, ws), eq(providers.id, id)));
        return getProvider(q, ws, id);
      }),
    delete: (ws, id) => db.run(async (q) => (await q.exec("DELETE FROM `providers` WHERE `workspace_id` = ? AND `id` = ?", [ws, id])) > 0),

    quotas: (ws) => db.run((q) => listQuotas(q, ws)),
    setQuota: async (ws, providerId, quota) => {
      if (quota.daily === undefined && quota.per_second === undefined) return;
      await db.tx((q) => setQuota(q, ws, providerId, quota));
    },

    ...mysqlSenderDomains(db),
  };
}

async function getProvider(q: Sql, ws: string, id: string): Promise<ProviderRow | undefined> {
  const [row] = await q.orm
    .select()
    .from(providers)
    .where(and(eq(providers.workspaceId, ws), eq(providers.id, id)));
  return row;
}

async function listQuotas(q: Sql, ws: string): Promise<QuotaRow[]> {
  return q.orm
    .select({ providerId: rateLimits.providerId, period: rateLimits.period, maxCount: rateLimits.maxCount, burst: rateLimits.burst })
    .from(rateLimits)
    .where(and(eq(rateLimits.workspaceId, ws), eq(rateLimits.scope, "provider")));
}

/** db/provider-quotas.ts setProviderQuota: each given period's rows replaced, in one transaction. */
async function setQuota(q: Sql, ws: string, providerId: string, quota: ProviderQuotaInput): Promise<void> {
  const replace = async (period: "day" | "second", maxCount: number | null | undefined, burst: boolean) => {
    if (maxCount === undefined) return;
    await q.orm
      .delete(rateLimits)
      .where(and(eq(rateLimits.workspaceId, ws), eq(rateLimits.providerId, providerId), eq(rateLimits.scope, "provider"), eq(rateLimits.period, period)));
    if (maxCount !== null) {
      await q.orm.insert(rateLimits).values({ id: newId("rl"), workspaceId: ws, providerId, scope: "provider", period, maxCount, ...(burst ? { burst: maxCount } : {}) });
    }
  };
  await replace("day", quota.daily, false);
  await replace("second", quota.per_second, true);
}
