// Provider quotas live in rate_limits (scope "provider"): a daily cap and an optional per-second
// rate per provider. A provider without rows gets its type's default (core/limits/quota.ts).
import { and, eq } from "drizzle-orm";
import type { Db } from "./client";
import { rateLimits } from "./schema";

const providerQuotaQuery = (db: Db, workspaceId: string) =>
  db
    .select({ providerId: rateLimits.providerId, period: rateLimits.period, maxCount: rateLimits.maxCount, burst: rateLimits.burst })
    .from(rateLimits)
    .where(and(eq(rateLimits.workspaceId, workspaceId), eq(rateLimits.scope, "provider")));

export type QuotaRow = Awaited<ReturnType<typeof providerQuotaQuery>>[number];

/** The workspace's provider quota rows (every provider's). */
export const listProviderQuotas = (db: Db, workspaceId: string): Promise<QuotaRow[]> => providerQuotaQuery(db, workspaceId).all();

/** Replaces a provider's quota rows (null removes a limit, falling back to the type default). */
export async function setProviderQuota(
  db: Db,
  workspaceId: string,
  providerId: string,
  quota: { daily?: number | null; per_second?: number | null },
  newId: () => string,
): Promise<void> {
  const del = (period: "day" | "second") =>
    db.delete(rateLimits).where(and(eq(rateLimits.workspaceId, workspaceId), eq(rateLimits.providerId, providerId), eq(rateLimits.scope, "provider"), eq(rateLimits.period, period)));
  const stmts = [];
  if (quota.daily !== undefined) {
    stmts.push(del("day"));
    if (quota.daily !== null) stmts.push(db.insert(rateLimits).values({ id: newId(), workspaceId, providerId, scope: "provider", period: "day", maxCount: quota.daily }));
  }
  if (quota.per_second !== undefined) {
    stmts.push(del("second"));
    if (quota.per_second !== null) {
      stmts.push(db.insert(rateLimits).values({ id: newId(), workspaceId, providerId, scope: "provider", period: "second", maxCount: quota.per_second, burst: quota.per_second }));
    }
  }
  if (stmts.length) await db.batch(stmts as [(typeof stmts)[number], ...(typeof stmts)[number][]]);
}
